"""Rank correlation (Spearman) and ROC AUC, with bootstrap confidence intervals.

Pure functions (numpy / pandas in, numbers out). Every interval is a percentile bootstrap unless
stated (``ci=0.95`` gives the 2.5th and 97.5th percentiles). Degenerate input (too few values,
a constant variable, a single group) raises :class:`mouseface.errors.InputError` with what is
missing, never an exception from scipy or statsmodels.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats as sps

from mouseface.errors import InputError
from mouseface.stats.bootstrap import Estimate, check_ci, percentile_ci

__all__ = ["spearman", "spearman_ci", "roc_auc", "auc_ci"]


def _rank_rows(a: np.ndarray) -> np.ndarray:
    return sps.rankdata(a, axis=-1, method="average")


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    den = np.sqrt((xc * xc).sum(-1) * (yc * yc).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def _spearman_rows(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho of paired rows (resamples along ``axis``); NaN where one is constant."""
    x, y = np.moveaxis(x, axis, -1), np.moveaxis(y, axis, -1)
    return _pearson_rows(_rank_rows(x), _rank_rows(y))


def _finite_pairs(x: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise InputError(f"{what}: x and y differ in length ({x.size} vs {y.size})")
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of the finite pairs; NaN with < 3 pairs or a constant variable."""
    x, y = _finite_pairs(x, y, "spearman")
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(_pearson_rows(_rank_rows(x), _rank_rows(y)))


def spearman_ci(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Spearman's rho with a bootstrap interval (pairs resampled by
    :func:`scipy.stats.bootstrap`) and its p-value.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Paired values (e.g. stimulus intensity and response); non-finite pairs are dropped.
    n_boot : int
        Bootstrap replicates.
    ci : float
        Coverage of the interval.
    seed : int
        Seed of the resampling.

    Returns
    -------
    Estimate
        ``value`` = rho, ``p`` = two-sided p of the t approximation (exact permutation
        distribution for n <= 9), ``n`` = number of pairs.

    Raises
    ------
    InputError
        Fewer than 3 finite pairs, or x or y constant.
    """
    x, y = _finite_pairs(x, y, "spearman_ci")
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        raise InputError(
            f"Spearman correlation needs at least 3 pairs with varying x and y; got {x.size} "
            f"pairs ({len(np.unique(x))} distinct x, {len(np.unique(y))} distinct y)"
        )
    check_ci(ci)
    rho = spearman(x, y)
    # SciPy's own interval is NaN (with a DegenerateDataWarning) as soon as one resample has a
    # constant x or y, common with 3-5 pairs; the percentile of the finite replicates is not
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sps.DegenerateDataWarning)
        res = sps.bootstrap(
            (x, y),
            _spearman_rows,
            n_resamples=int(n_boot),
            paired=True,
            vectorized=True,
            confidence_level=ci,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    lo, hi = percentile_ci(res.bootstrap_distribution, ci=ci)
    if x.size <= 9:
        p = _spearman_perm_p(x, y, rho)
    else:
        t = rho * np.sqrt((x.size - 2) / max(1e-300, 1 - rho * rho))
        p = float(2 * sps.t.sf(abs(t), x.size - 2))
    return Estimate(rho, lo, hi, int(x.size), p)


def _spearman_perm_p(x: np.ndarray, y: np.ndarray, rho: float) -> float:
    import itertools

    rx, ry = _rank_rows(x), _rank_rows(y)
    perms = np.array(list(itertools.permutations(range(x.size))))
    null = _pearson_rows(np.broadcast_to(rx, perms.shape), ry[perms])
    return float(np.mean(np.abs(null) >= abs(rho) - 1e-12))


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney; ties count 1/2); NaN unless both classes occur.

    Parameters
    ----------
    y : ndarray of bool or {0, 1}, shape (n,)
        True class (1 = positive).
    score : ndarray, shape (n,)
        Higher = more positive.
    """
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = sps.rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_ci(
    y: np.ndarray,
    score: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """ROC AUC with a stratified bootstrap interval: trials resampled within each class (and
    within each group, e.g. animal, when ``groups`` is given) so every replicate keeps both
    classes and each animal's share. Our own resampling: :func:`scipy.stats.bootstrap` has no
    strata (a plain resample can draw a single class, where the AUC is undefined).

    Returns
    -------
    Estimate
        ``value`` = AUC, ``n`` = trials, ``p`` = one-sided Mann-Whitney p of AUC > 0.5.
    """
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    g = np.zeros(len(y), dtype=int) if groups is None else np.unique(groups, return_inverse=True)[1]
    if y.all() or not y.any():
        raise InputError("an AUC needs trials of both classes")
    auc = roc_auc(y, s)
    strata = [np.flatnonzero((g == k) & (y == c)) for k in np.unique(g) for c in (False, True)]
    strata = [ix for ix in strata if ix.size]
    rng = np.random.default_rng(seed)
    boot = np.empty(int(n_boot))
    for i in range(int(n_boot)):
        idx = np.concatenate([ix[rng.integers(0, ix.size, ix.size)] for ix in strata])
        boot[i] = roc_auc(y[idx], s[idx])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = float(sps.mannwhitneyu(s[y], s[~y], alternative="greater").pvalue)
    return Estimate(auc, *percentile_ci(boot, ci=ci), int(len(y)), p)
