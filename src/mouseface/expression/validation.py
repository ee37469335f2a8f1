"""Cross-validation schemes, classification metrics, cluster bootstrap and permutation tests.

Pure functions on arrays; nothing here reads files. The decoders themselves live in
:mod:`mouseface.expression.decoders` (and :mod:`mouseface.expression._gated`).

- :func:`cv_splits`: leave one animal out (``"animal"``), leave one session out
  (``"session"``) or repeated random splits that keep each trial's frames together
  (``"random"``).
- :func:`confusion`, :func:`scores_from_confusion`: accuracy, balanced accuracy and per-class F1
  from (stacks of) confusion matrices.
- :func:`bootstrap_confusion`: confusion matrices of a cluster bootstrap (trials resampled with
  replacement, so that correlated frames of one trial move together).
- :func:`permutation_null`: the score of a decoder refitted on labels permuted within groups
  (the chance level and a p-value).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mouseface.errors import InputError

__all__ = [
    "SCHEMES",
    "Split",
    "cv_splits",
    "confusion",
    "scores_from_confusion",
    "bootstrap_confusion",
    "percentile_interval",
    "permute_within",
    "permutation_null",
    "permutation_p_value",
]

SCHEMES = ("animal", "session", "random")


@dataclass(frozen=True)
class Split:
    """One train/test split.

    Attributes
    ----------
    fold : str
        Name of the fold: the held-out animal or session, or ``"split<k>"``.
    train, test : ndarray of int
        Row indices.
    """

    fold: str
    train: np.ndarray
    test: np.ndarray


def _leave_one_out(groups: np.ndarray, what: str) -> list[Split]:
    uniq = np.unique(groups)
    if len(uniq) < 2:
        raise InputError(
            f"cross-validation by {what} needs at least 2 {what}s, got {len(uniq)} "
            f"({', '.join(map(str, uniq))}); add sessions of another {what} or choose another "
            "scheme"
        )
    return [Split(str(g), np.flatnonzero(groups != g), np.flatnonzero(groups == g)) for g in uniq]


def cv_splits(
    scheme: str,
    *,
    animals: np.ndarray,
    sessions: np.ndarray,
    clusters: np.ndarray,
    n_splits: int = 5,
    test_size: float = 0.25,
    seed: int = 0,
) -> list[Split]:
    """Train/test splits of a cross-validation scheme.

    Parameters
    ----------
    scheme : {"animal", "session", "random"}
        ``animal``: leave one animal out; ``session``: leave one session out; ``random``:
        ``n_splits`` random splits holding out ``test_size`` of the clusters (trials) each.
    animals, sessions, clusters : ndarray, shape (n,)
        Animal, session and cluster (trial) of each row. A cluster is never split between train
        and test in the ``random`` scheme.
    n_splits : int
        Repeats of the ``random`` scheme.
    test_size : float
        Fraction of the clusters held out by each random split, in (0, 1).
    seed : int
        Seed of the random splits.

    Returns
    -------
    list of Split

    Raises
    ------
    InputError
        Unknown scheme, fewer than 2 animals / sessions, or too few clusters to split.
    """
    animals, sessions, clusters = (np.asarray(a) for a in (animals, sessions, clusters))
    if scheme == "animal":
        return _leave_one_out(animals, "animal")
    if scheme == "session":
        return _leave_one_out(sessions, "session")
    if scheme != "random":
        raise InputError(f"unknown cross-validation scheme {scheme!r}; choose from {SCHEMES}")
    if not 0.0 < test_size < 1.0:
        raise InputError(f"test_size must be in (0, 1), got {test_size}")
    if n_splits < 1:
        raise InputError(f"n_splits must be >= 1, got {n_splits}")
    uniq, inverse = np.unique(clusters, return_inverse=True)
    n_test = int(round(test_size * len(uniq)))
    if len(uniq) < 4 or n_test < 1 or n_test >= len(uniq):
        raise InputError(
            f"random splits need at least 4 trials to hold out {test_size:.0%} of them, got "
            f"{len(uniq)}; use more trials or the 'animal' / 'session' scheme"
        )
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_splits):
        held = np.zeros(len(uniq), dtype=bool)
        held[rng.choice(len(uniq), size=n_test, replace=False)] = True
        test = held[inverse]
        out.append(Split(f"split{k}", np.flatnonzero(~test), np.flatnonzero(test)))
    return out


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence) -> np.ndarray:
    """Confusion counts, rows true class, columns predicted class.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (n,)
    classes : sequence, length k
        Class order; predictions outside ``classes`` are not counted.

    Returns
    -------
    ndarray of int64, shape (k, k)
    """
    classes = np.asarray(classes, dtype=object)
    index = {c: i for i, c in enumerate(classes)}
    t = np.array([index.get(v, -1) for v in np.asarray(y_true, dtype=object)], dtype=np.int64)
    p = np.array([index.get(v, -1) for v in np.asarray(y_pred, dtype=object)], dtype=np.int64)
    ok = (t >= 0) & (p >= 0)
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(cm, (t[ok], p[ok]), 1)
    return cm


def scores_from_confusion(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy and per-class F1 from confusion matrices.

    Parameters
    ----------
    cm : ndarray, shape (..., k, k)
        Counts (or bootstrap weights), rows true, columns predicted.

    Returns
    -------
    dict
        ``accuracy`` and ``balanced_accuracy`` of shape (...), ``f1`` and ``recall`` of shape
        (..., k). Balanced accuracy averages the recall of the classes that have rows; F1 is
        NaN for a class with neither true nor predicted rows.
    """
    cm = np.asarray(cm, dtype=np.float64)
    diag = np.diagonal(cm, axis1=-2, axis2=-1)
    rows = cm.sum(axis=-1)
    cols = cm.sum(axis=-2)
    total = rows.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = diag.sum(axis=-1) / total
        recall = np.where(rows > 0, diag / np.where(rows > 0, rows, 1.0), np.nan)
        present = rows > 0
        balanced = np.where(
            present.any(axis=-1),
            np.nansum(recall, axis=-1) / np.maximum(present.sum(axis=-1), 1),
            np.nan,
        )
        denom = rows + cols
        f1 = np.where(denom > 0, 2.0 * diag / np.where(denom > 0, denom, 1.0), np.nan)
    return {"accuracy": accuracy, "balanced_accuracy": balanced, "f1": f1, "recall": recall}


def bootstrap_confusion(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    clusters: np.ndarray,
    classes: Sequence,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """Confusion matrices of a cluster bootstrap.

    Each replicate draws as many clusters as there are, with replacement, and sums their
    confusion counts: frames of one trial are resampled together.

    Parameters
    ----------
    y_true, y_pred, clusters : ndarray, shape (n,)
    classes : sequence, length k
    n_boot : int
        Number of replicates (>= 1).
    seed : int

    Returns
    -------
    ndarray of float64, shape (n_boot, k, k)
    """
    if n_boot < 1:
        raise InputError(f"n_boot must be >= 1, got {n_boot}")
    uniq, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    k = len(classes)
    per = np.zeros((len(uniq), k, k), dtype=np.float64)
    classes_arr = np.asarray(classes, dtype=object)
    index = {c: i for i, c in enumerate(classes_arr)}
    t = np.array([index.get(v, -1) for v in np.asarray(y_true, dtype=object)], dtype=np.int64)
    p = np.array([index.get(v, -1) for v in np.asarray(y_pred, dtype=object)], dtype=np.int64)
    ok = (t >= 0) & (p >= 0)
    np.add.at(per, (inverse[ok], t[ok], p[ok]), 1.0)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(uniq), np.full(len(uniq), 1.0 / len(uniq)), size=n_boot)
    return np.einsum("bc,cij->bij", weights.astype(np.float64), per)


def percentile_interval(
    samples: np.ndarray, *, level: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap ``samples`` along ``axis`` (NaNs ignored)."""
    if not 0.0 < level < 1.0:
        raise InputError(f"interval level must be in (0, 1), got {level}")
    a = (1.0 - level) / 2.0
    s = np.asarray(samples, dtype=np.float64)
    return _nanq(s, a, axis), _nanq(s, 1.0 - a, axis)


def _nanq(s: np.ndarray, q: float, axis: int) -> np.ndarray:
    moved = np.moveaxis(s, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    out = np.full(flat.shape[0], np.nan)
    for i, row in enumerate(flat):
        row = row[np.isfinite(row)]
        if row.size:
            out[i] = np.quantile(row, q)
    return out.reshape(moved.shape[:-1])


def permute_within(y: np.ndarray, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``y`` with its values shuffled among the rows of each group."""
    y = np.asarray(y).copy()
    groups = np.asarray(groups)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        y[idx] = y[rng.permutation(idx)]
    return y


def permutation_null(
    score: Callable[[np.ndarray], float],
    y: np.ndarray,
    groups: np.ndarray,
    *,
    n_permutations: int = 20,
    seed: int = 0,
) -> np.ndarray:
    """Scores of a decoder refitted on permuted labels.

    Parameters
    ----------
    score : callable
        ``score(y_perm) -> float``: cross-validates the decoder with the training labels
        ``y_perm`` (and the true labels for testing) and returns its score.
    y : ndarray, shape (n,)
    groups : ndarray, shape (n,)
        Labels are permuted within each group (e.g. animal), which keeps each group's class
        balance.
    n_permutations : int
    seed : int

    Returns
    -------
    ndarray of float64, shape (n_permutations,)
    """
    rng = np.random.default_rng(seed)
    return np.array(
        [score(permute_within(y, groups, rng)) for _ in range(n_permutations)], dtype=np.float64
    )


def permutation_p_value(observed: float, null: np.ndarray) -> float:
    """One-sided p-value ``(1 + #{null >= observed}) / (1 + n)`` (Phipson & Smyth 2010)."""
    null = np.asarray(null, dtype=np.float64)
    null = null[np.isfinite(null)]
    if not np.isfinite(observed) or null.size == 0:
        return float("nan")
    return float((1 + np.sum(null >= observed)) / (1 + null.size))
