"""Expression prototypes and per-frame expression strength (Dolensek et al. 2020).

- Neutral prototype: mean HOG of baseline frames.
- Emotion prototype: mean HOG of the stimulus-window frames least correlated (Pearson) with the
  neutral prototype (the lab's code averages the 10 least correlated frames).
- ``change`` of a frame = 1 - Pearson r with the neutral prototype; ``strength`` of a frame for an
  emotion = Pearson r with that emotion's prototype.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mouseface.errors import InputError
from mouseface.expression.trials import good_or_all
from mouseface.io.feature_store import ROWS, HogSource, iter_rows

__all__ = [
    "Candidates",
    "animal_prototypes",
    "pooled_prototypes",
    "pearson_rows",
    "pearson_matrix",
    "neutral_prototype",
    "session_neutral",
    "least_correlated",
    "emotion_prototype",
    "similarity_matrix",
]


def _centred_unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(Xc, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, Xc / np.where(norm > 0, norm, 1.0), np.nan)


def pearson_matrix(X: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Pearson r of every row of ``X`` with every row of ``P``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Feature vectors (e.g. per-frame HOG).
    P : ndarray, shape (k, d)
        Prototypes.

    Returns
    -------
    ndarray of float64, shape (n, k)
        Correlations in [-1, 1]; NaN where a vector is constant.
    """
    X = np.atleast_2d(X)
    P = np.atleast_2d(P)
    if X.shape[1] != P.shape[1]:
        raise InputError(
            f"feature lengths differ: frames have {X.shape[1]}, prototypes "
            f"{P.shape[1]}; were they computed with the same HOG parameters and face size?"
        )
    # centre the frames once and divide the (n, k) products by their norms, instead of
    # normalising the (n, d) frame matrix itself (a third of the passes over it)
    Xc = np.asarray(X, dtype=np.float64)
    Xc = Xc - Xc.mean(axis=-1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", Xc, Xc))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (Xc @ _centred_unit(P).T) / norm[:, None]
    r[norm == 0] = np.nan
    return r


def pearson_rows(X: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Pearson r of every row of ``X`` (n, d) with one vector ``p`` (d,); returns (n,)."""
    return pearson_matrix(X, np.asarray(p)[None, :])[:, 0]


def neutral_prototype(hog: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean HOG of the baseline frames.

    Parameters
    ----------
    hog : ndarray, shape (n, d)
    mask : ndarray of bool, shape (n,), optional
        Frames to use (baseline windows, good quality); all frames when None.

    Returns
    -------
    ndarray of float32, shape (d,)
    """
    sel = hog if mask is None else hog[np.asarray(mask, dtype=bool)]
    if len(sel) == 0:
        raise InputError(
            "no baseline frames to build the neutral prototype from; check that the "
            "baseline window (e.g. [-2, 0] s) lies inside the video for some trial"
        )
    return sel.mean(axis=0, dtype=np.float64).astype(np.float32)


def session_neutral(
    hog: HogSource,
    baseline: np.ndarray,
    good: np.ndarray | None = None,
    *,
    rows: int = ROWS,
) -> np.ndarray:
    """A session's neutral prototype: mean HOG of its good baseline frames.

    The good frames of ``baseline`` are used, or all of ``baseline`` when every one of them is
    flagged. HOG is read ``rows`` selected rows at a time (a lazy feature store is never read
    whole) and summed in float64 row after row, so the result equals
    :func:`neutral_prototype` of the same rows exactly.

    Parameters
    ----------
    hog : feature store folder, zarr array or ndarray, shape (n, d)
        Every frame's HOG (see :data:`mouseface.io.feature_store.HogSource`).
    baseline : ndarray of bool, shape (n,)
        Frames in a baseline window (all frames when there are no events).
    good : ndarray of bool, shape (n,), optional
        Frames without a quality flag; None treats every frame as good.
    rows : int
        Rows read at a time.

    Returns
    -------
    ndarray of float32, shape (d,)

    Raises
    ------
    InputError
        No baseline frame.
    """
    baseline = np.asarray(baseline, dtype=bool)
    index = good_or_all(baseline, np.ones_like(baseline) if good is None else good)
    if len(index) == 0:
        return neutral_prototype(np.zeros((0, 0), dtype=np.float32))
    total = None
    for block in iter_rows(hog, index, rows=rows):
        block = block.astype(np.float64)
        if total is not None:
            block[0] += total  # carry the running sum: same order as one sum over all rows
        total = block.sum(axis=0)
    return (total / len(index)).astype(np.float32)


def least_correlated(hog: np.ndarray, neutral: np.ndarray, *, n: int = 10) -> np.ndarray:
    """Indices of the ``n`` rows of ``hog`` least correlated with ``neutral``."""
    r = pearson_rows(hog, neutral)
    r = np.where(np.isnan(r), np.inf, r)
    return np.argsort(r, kind="stable")[: min(n, len(r))]


def emotion_prototype(hog: np.ndarray, r_neutral: np.ndarray, *, n: int = 10) -> np.ndarray:
    """Emotion prototype: mean of the ``n`` stimulus-window frames least correlated with neutral.

    Parameters
    ----------
    hog : ndarray, shape (m, d)
        HOG of the candidate frames (response windows of one emotion's trials).
    r_neutral : ndarray, shape (m,)
        Pearson r of each candidate with its session's neutral prototype.
    n : int
        Number of least-correlated frames averaged (10 in the lab's code).

    Returns
    -------
    ndarray of float32, shape (d,)
    """
    if len(hog) == 0:
        raise InputError("an emotion has no stimulus-window frames to build its prototype from")
    r = np.where(np.isnan(r_neutral), np.inf, r_neutral)
    idx = np.argsort(r, kind="stable")[: min(n, len(r))]
    return hog[idx].mean(axis=0, dtype=np.float64).astype(np.float32)


def similarity_matrix(prototypes: np.ndarray) -> np.ndarray:
    """Pearson r between every pair of prototypes, shape (k, k)."""
    return pearson_matrix(prototypes, prototypes)


class Candidates:
    """Stimulus-window frames collected per (animal, emotion) for building prototypes.

    Stores HOG rows with their Pearson r to the session's neutral prototype, and a bounded
    number of rows per key (the least correlated ones are the ones a prototype uses, so keeping
    the ``keep`` least correlated rows per key is exact for prototypes of up to ``keep`` frames).
    """

    def __init__(self, *, keep: int = 200) -> None:
        self.keep = keep
        self._data: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def add(self, animal: str, emotion: str, hog: np.ndarray, r_neutral: np.ndarray) -> None:
        """Add candidate rows ``hog`` (m, d) with their r to neutral (m,)."""
        key = (animal, emotion)
        if key in self._data:
            h0, r0 = self._data[key]
            hog, r_neutral = np.concatenate([h0, hog]), np.concatenate([r0, r_neutral])
        order = np.argsort(np.where(np.isnan(r_neutral), np.inf, r_neutral), kind="stable")
        order = order[: self.keep]
        self._data[key] = (hog[order], r_neutral[order])

    def items(self) -> list[tuple[tuple[str, str], tuple[np.ndarray, np.ndarray]]]:
        """(animal, emotion) -> (hog, r) pairs, sorted by key."""
        return sorted(self._data.items())


def animal_prototypes(cands: Candidates, *, n: int = 10) -> dict[tuple[str, str], np.ndarray]:
    """Emotion prototype of every (animal, emotion): mean of its ``n`` least neutral-like frames."""
    return {key: emotion_prototype(h, r, n=n) for key, (h, r) in cands.items()}


def pooled_prototypes(protos: Mapping[tuple[str, str], np.ndarray]) -> dict[str, np.ndarray]:
    """Pooled prototype of each emotion: the mean of the animals' prototypes (equal weights)."""
    by_emotion: dict[str, list[np.ndarray]] = {}
    for (_, emo), p in protos.items():
        by_emotion.setdefault(emo, []).append(p)
    return {e: np.mean(ps, axis=0).astype(np.float32) for e, ps in sorted(by_emotion.items())}
