"""Permutation tests: labels shuffled within groups, the null distribution and its p-value.

Our own, not :func:`scipy.stats.permutation_test`: the labels must be shuffled only among the
rows of each group (animal), which keeps each animal's class balance and its own baseline,
while SciPy shuffles across the whole sample. Where a plain shuffle fits, the analyses call
SciPy (e.g. the sign-flip test in :mod:`mouseface.expression.meaning`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["permute_within", "permutation_null", "permutation_p_value"]


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
