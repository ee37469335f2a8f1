"""Classification metrics from confusion matrices, and their cluster bootstrap.

- :func:`confusion`, :func:`scores_from_confusion`: accuracy, balanced accuracy and per-class F1
  from (stacks of) confusion matrices.
- :func:`bootstrap_confusion`: confusion matrices of a cluster bootstrap (clusters, e.g. trials
  or animals, resampled with replacement so that correlated frames move together).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mouseface.errors import InputError

__all__ = ["confusion", "scores_from_confusion", "bootstrap_confusion"]


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
