"""Point estimates with intervals, and the percentile interval of bootstrap replicates.

Where a plain bootstrap fits (independent observations resampled with replacement), the
resampling is :func:`scipy.stats.bootstrap`'s (see :func:`mouseface.stats.spearman_ci`); our own
resampling is kept only where SciPy has no equivalent: the cluster bootstrap (animals resampled,
then trials within each animal, :func:`mouseface.stats.hierarchical_paired`) and the stratified one
(trials resampled within each class and animal, :func:`mouseface.stats.auc_ci`). Either way the
interval is :func:`percentile_ci` of the replicates, which drops replicates that could not be
computed (NaN: e.g. a resample whose values are all equal) instead of returning a NaN interval.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mouseface.errors import InputError

__all__ = ["Estimate", "check_ci", "mean_ci", "percentile_ci", "percentile_interval"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval.

    Attributes
    ----------
    value : float
    ci_low, ci_high : float
        Bounds of the interval (NaN when it could not be computed).
    n : int
        Number of observations (pairs, animals, trials) behind the estimate.
    p : float
        p-value of the matching test, NaN when there is none.
    """

    value: float
    ci_low: float
    ci_high: float
    n: int
    p: float = float("nan")


def check_ci(ci: float) -> None:
    """InputError unless ``0 < ci < 1``."""
    if not 0 < ci < 1:
        raise InputError(f"ci (the interval's level) must be in (0, 1) (e.g. 0.95), got {ci}")


def percentile_ci(
    samples: np.ndarray, *, ci: float = 0.95, axis: int | None = None, min_finite: int = 10
) -> tuple:
    """Percentile interval of bootstrap replicates; non-finite replicates are ignored.

    Parameters
    ----------
    samples : ndarray of float
        Bootstrap replicates, shape (n_boot,), or any shape with the replicates along ``axis``.
    ci : float
        Coverage in (0, 1): ``ci=0.95`` gives the 2.5th and 97.5th percentiles (linear
        interpolation, as :func:`numpy.percentile`).
    axis : int, optional
        Axis of the replicates; None (default) treats ``samples`` as one flat set of replicates.
    min_finite : int
        Fewer finite replicates than this give NaN bounds.

    Returns
    -------
    (float, float)
        With ``axis=None``.
    (ndarray, ndarray)
        With an ``axis``: lower and upper bounds, the shape of ``samples`` without ``axis``.

    Raises
    ------
    InputError
        ``ci`` outside (0, 1).
    """
    check_ci(ci)
    s = np.asarray(samples, dtype=np.float64)
    s = s.reshape(-1) if axis is None else np.moveaxis(s, axis, -1)
    finite = np.isfinite(s)
    enough = finite.sum(axis=-1) >= max(1, int(min_finite))
    a = (1.0 - ci) / 2.0
    if s.shape[-1] == 0:  # no replicate at all (e.g. no trial to resample): no interval
        nan = np.full(s.shape[:-1], np.nan)
        return (float("nan"), float("nan")) if axis is None else (nan, nan.copy())
    if finite.all():  # np.nanquantile loops over rows in Python: only when needed
        lo, hi = np.quantile(s, [a, 1.0 - a], axis=-1)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: masked below
            lo, hi = np.nanquantile(np.where(finite, s, np.nan), [a, 1.0 - a], axis=-1)
    lo, hi = np.where(enough, lo, np.nan), np.where(enough, hi, np.nan)
    if axis is None:
        return float(lo), float(hi)
    return lo, hi


def percentile_interval(
    samples: np.ndarray, *, level: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`percentile_ci` along ``axis`` with no minimum count of finite replicates (the
    spelling decoding/ uses; new code calls :func:`percentile_ci`)."""
    return percentile_ci(samples, ci=level, axis=axis, min_finite=1)


def mean_ci(
    values: np.ndarray, *, n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean (:func:`scipy.stats.bootstrap`, values resampled).

    Parameters
    ----------
    values : ndarray of float, shape (n,)
        Independent observations (e.g. one animal's trial responses at one intensity);
        non-finite values are dropped.
    n_boot, ci, seed
        Replicates, coverage and seed of the resampling.

    Returns
    -------
    (float, float)
        NaN, NaN with fewer than 2 finite values.
    """
    check_ci(ci)
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan"), float("nan")
    from scipy import stats as sps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sps.DegenerateDataWarning)  # all values equal
        res = sps.bootstrap(
            (v,),
            np.mean,
            n_resamples=int(n_boot),
            vectorized=True,
            confidence_level=ci,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return percentile_ci(res.bootstrap_distribution, ci=ci)
