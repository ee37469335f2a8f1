"""Classification metrics (scikit-learn), their cluster bootstrap and the permutation null.

- :func:`confusion`, :func:`scores`: confusion matrix, accuracy, balanced accuracy, per-class F1
  and recall of one set of predictions (``sklearn.metrics``).
- :func:`scores_from_confusion`: the same scores of a stack of (bootstrap) confusion matrices at
  once; scikit-learn's metrics take label vectors, one set at a time, which would make a
  1000-replicate bootstrap 1000 calls.
- :func:`bootstrap_confusion`: confusion matrices of a cluster bootstrap (clusters, e.g. animals,
  resampled with replacement so that correlated frames move together). Neither scikit-learn nor
  SciPy resamples clusters (``scipy.stats.bootstrap`` resamples observations), hence our own.
- :func:`permuted_balanced_accuracy`: balanced accuracy of predictions permuted within groups
  (e.g. animals), vectorised: the null of "predictions unrelated to the truth" for out-of-fold
  predictions, with no refit.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    recall_score,
)

from mouseface.errors import InputError

__all__ = [
    "confusion",
    "scores",
    "scores_from_confusion",
    "bootstrap_confusion",
    "permuted_balanced_accuracy",
]


def _strings(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=object).astype(str)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence) -> np.ndarray:
    """Confusion counts, rows true class, columns predicted class.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (n,)
    classes : sequence, length k
        Class order; rows whose true or predicted class is outside ``classes`` are not counted.

    Returns
    -------
    ndarray of int64, shape (k, k)
    """
    labels = _strings(classes)
    t, p = _strings(y_true), _strings(y_pred)
    ok = np.isin(t, labels) & np.isin(p, labels)
    if not ok.any():
        return np.zeros((len(labels), len(labels)), dtype=np.int64)
    return confusion_matrix(t[ok], p[ok], labels=labels).astype(np.int64)


def scores(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy, per-class F1 and recall (``sklearn.metrics``).

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (n,)
    classes : sequence, length k

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy`` (float: mean recall of the classes present in
        ``y_true``; NaN without rows), ``f1`` and ``recall`` (ndarray (k,); NaN for a class
        without true rows, and F1 NaN for a class with neither true nor predicted rows).
    """
    labels = _strings(classes)
    t, p = _strings(y_true), _strings(y_pred)
    k = len(labels)
    if t.size == 0:
        nan = np.full(k, np.nan)
        return {"accuracy": np.nan, "balanced_accuracy": np.nan, "f1": nan, "recall": nan.copy()}
    with warnings.catch_warnings():
        # a predicted class absent from y_true has no recall: it is left out of the mean
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        # one class in a fold (e.g. every trial of a held-out animal is "pain"): still defined
        warnings.filterwarnings("ignore", message="A single label was found")
        ba = balanced_accuracy_score(t, p)
    present = np.isin(labels, t)
    seen = present | np.isin(labels, p)
    f1 = f1_score(t, p, labels=labels, average=None, zero_division=np.nan)
    recall = recall_score(t, p, labels=labels, average=None, zero_division=np.nan)
    return {
        "accuracy": float(accuracy_score(t, p)),
        "balanced_accuracy": float(ba),
        "f1": np.where(seen, f1, np.nan),
        "recall": np.where(present, recall, np.nan),
    }


def scores_from_confusion(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy and per-class F1 and recall of a stack of confusion matrices.

    Parameters
    ----------
    cm : ndarray, shape (..., k, k)
        Counts (or bootstrap weights), rows true, columns predicted.

    Returns
    -------
    dict
        ``accuracy`` and ``balanced_accuracy`` of shape (...), ``f1`` and ``recall`` of shape
        (..., k), defined as in :func:`scores`.
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


def _codes(y: np.ndarray, classes: Sequence) -> np.ndarray:
    index = {c: i for i, c in enumerate(_strings(classes))}
    return np.array([index.get(v, -1) for v in _strings(y)], dtype=np.int64)


def bootstrap_confusion(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    clusters: np.ndarray,
    classes: Sequence,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Confusion matrices of a cluster bootstrap.

    Each replicate draws as many clusters as there are, with replacement, and sums their
    confusion counts: the frames of one cluster (animal, trial) are resampled together.

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
    uniq, inverse = np.unique(_strings(clusters), return_inverse=True)
    k = len(classes)
    per = np.zeros((len(uniq), k, k), dtype=np.float64)
    t, p = _codes(y_true, classes), _codes(y_pred, classes)
    ok = (t >= 0) & (p >= 0)
    np.add.at(per, (inverse[ok], t[ok], p[ok]), 1.0)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(uniq), np.full(len(uniq), 1.0 / len(uniq)), size=n_boot)
    return np.einsum("bc,cij->bij", weights.astype(np.float64), per)


def permuted_balanced_accuracy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    classes: Sequence,
    *,
    n_permutations: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """Balanced accuracy of the predictions shuffled among the rows of each group.

    Permuting out-of-fold predictions (not refitting on permuted labels) is valid because a
    held-out row's prediction never depended on its own label; shuffling within a group (an
    animal) keeps each animal's class balance and prediction rates. Rows are treated as
    exchangeable within a group (frames of one trial are not kept together). Balanced accuracy
    depends only on each group's confusion table, and shuffling predictions draws that table
    uniformly among the tables with the same margins; it is drawn directly (sequential
    hypergeometric draws, vectorised over permutations), so the cost does not grow with the
    number of rows.

    Parameters
    ----------
    y_true, y_pred, groups : ndarray, shape (n,)
    classes : sequence, length k
        Rows whose true or predicted class is outside ``classes`` are dropped.
    n_permutations : int
    seed : int

    Returns
    -------
    ndarray of float64, shape (n_permutations,)
        NaN when no row is left.
    """
    t, p = _codes(y_true, classes), _codes(y_pred, classes)
    ok = (t >= 0) & (p >= 0)
    t, p = t[ok], p[ok]
    g = np.unique(_strings(groups)[ok], return_inverse=True)[1]
    k, B = len(classes), int(n_permutations)
    if B < 1:
        return np.zeros(0)
    if len(t) == 0:
        return np.full(B, np.nan)
    counts = np.bincount(t, minlength=k)
    present = counts > 0
    rng = np.random.default_rng(seed)
    diag = np.zeros((B, k), dtype=np.int64)
    for j in range(g.max() + 1):
        m = g == j
        true_n = np.bincount(t[m], minlength=k)
        rem = np.tile(np.bincount(p[m], minlength=k), (B, 1))
        for c in np.flatnonzero(true_n):
            left = np.full(B, true_n[c], dtype=np.int64)
            for q in range(k):
                bad = rem[:, q + 1 :].sum(axis=1)
                draw = left > 0
                x = np.zeros(B, dtype=np.int64)
                if q == k - 1:
                    x = left.copy()
                elif draw.any():
                    x[draw] = rng.hypergeometric(rem[draw, q], bad[draw], left[draw])
                if q == c:
                    diag[:, c] += x
                rem[:, q] -= x
                left -= x
    return (diag[:, present] / counts[present]).mean(axis=1)
