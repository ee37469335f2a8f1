"""Point estimates with intervals and the percentile bootstrap interval (private; re-exported by
:mod:`mouseface.stats.correlation`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mouseface.errors import InputError

__all__ = ["Estimate", "percentile_ci", "percentile_interval", "check_ci"]


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


def percentile_ci(boot: np.ndarray, *, ci: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates (NaN replicates ignored).

    Parameters
    ----------
    boot : ndarray, shape (n_boot,)
    ci : float
        Coverage in (0, 1).

    Returns
    -------
    (float, float)
        NaN, NaN when fewer than 10 replicates are finite.
    """
    check_ci(ci)
    b = np.asarray(boot, dtype=np.float64)
    b = b[np.isfinite(b)]
    if b.size < 10:
        return float("nan"), float("nan")
    lo, hi = np.percentile(b, [50 * (1 - ci), 50 * (1 + ci)])
    return float(lo), float(hi)


def check_ci(ci: float) -> None:
    """InputError unless ``0 < ci < 1``."""
    if not 0 < ci < 1:
        raise InputError(f"ci must be in (0, 1) (e.g. 0.95), got {ci}")


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
