"""Project-level analyses on in-memory arrays: prototypes per animal and pooled, decoding tables.

Pure functions: the pipeline gathers the arrays from the sessions' feature stores and writes what
these return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.expression.decoders import cross_validate_by_group, make_decoder
from mouseface.expression.prototypes import emotion_prototype

__all__ = [
    "Candidates",
    "animal_prototypes",
    "pooled_prototypes",
    "subsample_per_group",
    "decode_all",
]


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


def subsample_per_group(keys: np.ndarray, *, max_per_key: int, seed: int = 0) -> np.ndarray:
    """Indices keeping at most ``max_per_key`` rows of each distinct key (random, reproducible)."""
    rng = np.random.default_rng(seed)
    keep = []
    for k in np.unique(keys):
        idx = np.flatnonzero(keys == k)
        if len(idx) > max_per_key:
            idx = np.sort(rng.choice(idx, size=max_per_key, replace=False))
        keep.append(idx)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def _tidy(
    scores: pd.DataFrame,
    y: np.ndarray,
    pred: np.ndarray,
    groups: np.ndarray,
    *,
    decoder: str,
    level: str,
) -> pd.DataFrame:
    rows = []
    for _, s in scores.iterrows():
        base = {
            "decoder": decoder,
            "level": level,
            "fold": int(s["fold"]),
            "held_out": s["held_out"],
        }
        for metric in ("accuracy", "balanced_accuracy", "n_test"):
            rows.append(
                {
                    **base,
                    "metric": metric,
                    "value": float(s[metric]),
                    "true": None,
                    "predicted": None,
                }
            )
        te = groups == s["held_out"]
        counts = pd.crosstab(pd.Series(y[te], name="t"), pd.Series(pred[te], name="p"))
        for t in counts.index:
            for p in counts.columns:
                if counts.loc[t, p]:
                    rows.append(
                        {
                            **base,
                            "metric": "count",
                            "value": float(counts.loc[t, p]),
                            "true": str(t),
                            "predicted": str(p),
                        }
                    )
    return pd.DataFrame(rows)


def decode_all(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    decoders: Sequence[str],
    level: str,
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Leave-one-animal-out cross-validation of every decoder.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    y : ndarray of str, shape (n,)
    groups : ndarray of str, shape (n,)
        Animal of each row.
    decoders : sequence of str
        Decoder names (see :func:`mouseface.expression.decoders.make_decoder`).
    level : str
        ``"frame"`` or ``"trial"``, written in the table.

    Returns
    -------
    table : DataFrame
        Tidy per-fold scores and confusion counts (see DESIGN: ``decoding.parquet``).
    predictions : dict
        decoder -> (predicted (n,), proba (n, k), classes (k,)), out of fold.
    """
    tables, preds = [], {}
    for name in decoders:
        make_decoder(name)  # validates the name before any work
        scores, pred, proba, classes = cross_validate_by_group(
            lambda name=name: make_decoder(name), X, y, groups, what="animal"
        )
        if scores.empty:
            raise InputError(f"{level}-level decoding: no fold had 2 classes to train on")
        tables.append(_tidy(scores, y, pred, groups, decoder=name, level=level))
        preds[name] = (pred, proba, classes)
    return pd.concat(tables, ignore_index=True), preds
