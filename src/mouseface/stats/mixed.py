"""Linear mixed model slope (statsmodels MixedLM) with a clear error when it cannot be fitted."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from mouseface.errors import InputError
from mouseface.stats.bootstrap import check_ci

__all__ = ["MixedSlope", "mixed_slope"]


@dataclass(frozen=True)
class MixedSlope:
    """Fixed-effect slope of a linear mixed model (random intercept per group).

    Attributes
    ----------
    slope, se, ci_low, ci_high, p : float
        Slope of the response per unit of x, its standard error, Wald interval and p-value.
    n, n_groups : int
    group_sd : float
        Standard deviation of the random intercepts (response units).
    converged : bool
    messages : list of str
        Warnings of the fit (convergence, boundary), worth reporting.
    """

    slope: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    n_groups: int
    group_sd: float
    converged: bool
    messages: list[str] = field(default_factory=list)


def mixed_slope(
    y: np.ndarray,
    x: np.ndarray,
    groups: np.ndarray,
    *,
    covariates: np.ndarray | None = None,
    ci: float = 0.95,
) -> MixedSlope:
    """Linear mixed model ``y ~ 1 + x (+ covariates) + (1 | group)`` (statsmodels MixedLM, REML).

    Parameters
    ----------
    y : ndarray, shape (n,)
        Response (e.g. trial ``response``).
    x : ndarray, shape (n,)
        Predictor (e.g. stimulus intensity); the slope is per unit of x.
    groups : ndarray, shape (n,)
        Group label of each row (animal): the random intercept.
    covariates : ndarray, shape (n, k), optional
        Extra fixed effects (e.g. dummy-coded internal state).
    ci : float
        Coverage of the Wald interval.

    Returns
    -------
    MixedSlope

    Raises
    ------
    InputError
        Fewer than 2 groups, fewer than 2 distinct x, or a fit that fails with every optimiser.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    check_ci(ci)
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    groups = np.asarray(groups).astype(str)
    cov = np.zeros((len(y), 0)) if covariates is None else np.asarray(covariates, float)
    ok = np.isfinite(y) & np.isfinite(x) & np.isfinite(cov).all(axis=1)
    y, x, groups, cov = y[ok], x[ok], groups[ok], cov[ok]
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise InputError(
            f"the mixed model needs trials of at least 2 animals (random effect), got {n_groups}"
        )
    if len(np.unique(x)) < 2:
        raise InputError("the mixed model needs at least 2 distinct intensities")
    xm, xs = x.mean(), x.std()
    ys = y.std() or 1.0
    exog = np.column_stack([np.ones_like(x), (x - xm) / xs, cov])
    keep = [0, 1] + [2 + j for j in range(cov.shape[1]) if np.ptp(cov[:, j]) > 0]
    exog = exog[:, keep]
    messages: list[str] = []
    res = None
    for method in ("lbfgs", "powell", "nm"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = MixedLM(y / ys, exog, groups).fit(reml=True, method=method)
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
                messages.append(f"{method}: {exc}")
                continue
        if np.isfinite(fit.bse[1]):
            res = fit
            messages += sorted({str(w.message).split("\n")[0] for w in caught})
            break
        messages.append(f"{method}: no standard error")
    if res is None:
        raise InputError(f"the mixed model could not be fitted: {'; '.join(messages)}")
    scale = ys / xs
    slope, se = float(res.fe_params[1]) * scale, float(res.bse[1]) * scale
    z = sps.norm.ppf(0.5 + ci / 2)
    p = float(2 * sps.norm.sf(abs(slope / se))) if se > 0 else float("nan")
    group_sd = float(np.sqrt(max(float(np.asarray(res.cov_re)[0, 0]), 0.0))) * ys
    return MixedSlope(
        slope=slope,
        se=se,
        ci_low=slope - z * se,
        ci_high=slope + z * se,
        p=p,
        n=int(len(y)),
        n_groups=n_groups,
        group_sd=group_sd,
        converged=bool(getattr(res, "converged", True)),
        messages=messages,
    )
