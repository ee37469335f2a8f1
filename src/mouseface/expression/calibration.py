"""Per-animal calibration of expression strength and its uncertainty (private maths).

- Uncertainty: a prototype is the mean HOG of a few frames (10 in the paper's rule), so it is an
  estimate. Resampling those frames with replacement gives bootstrap prototypes; the SD (and
  percentile interval) of a frame's Pearson r over them is the uncertainty of its strength.
- Calibration: strength relative to the animal's own baseline: ``z = (strength - m_s) / sd_a``,
  ``m_s`` the median strength of the session's baseline frames (re-estimated every session, so
  that drift of the face or camera between days cancels) and ``sd_a`` the robust SD of the
  animal's baseline strengths (each session centred on its own median).
- Drift: distance ``1 - r`` between a session's neutral prototype and the animal's reference
  neutral, with a bootstrap interval over the session's baseline frames.
"""

from __future__ import annotations

import numpy as np

from mouseface.errors import InputError
from mouseface.expression.prototypes import pearson_matrix, pearson_rows
from mouseface.features.quality import robust_scale
from mouseface.stats.bootstrap import check_ci, percentile_ci

__all__ = [
    "bootstrap_prototypes",
    "strength_uncertainty",
    "robust_sd",
    "baseline_z",
    "neutral_drift",
]


def bootstrap_prototypes(
    frames: np.ndarray, *, n_boot: int = 200, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Bootstrap replicates of a prototype: means of its frames resampled with replacement.

    Parameters
    ----------
    frames : ndarray, shape (m, d)
        HOG rows the prototype averages (m >= 2).
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator, optional

    Returns
    -------
    ndarray of float32, shape (n_boot, d)
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or len(frames) < 2:
        raise InputError(
            f"bootstrap_prototypes needs at least 2 prototype frames (m, d), got {frames.shape}"
        )
    if n_boot < 2:
        raise InputError(f"n_boot must be >= 2, got {n_boot}")
    rng = rng or np.random.default_rng(0)
    m = len(frames)
    idx = rng.integers(0, m, size=(n_boot, m))
    # replicate means as (resampling counts) @ frames: O(n_boot * m) memory, not
    # O(n_boot * m * d) as frames[idx] would take (gigabytes for an hour of baseline frames)
    counts = np.bincount((idx + m * np.arange(n_boot)[:, None]).ravel(), minlength=n_boot * m)
    return (counts.reshape(n_boot, m) @ frames / m).astype(np.float32)


def strength_uncertainty(
    hog: np.ndarray, boots: np.ndarray, *, ci: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SD and percentile interval of each frame's strength over bootstrap prototypes.

    Parameters
    ----------
    hog : ndarray, shape (n, d)
    boots : ndarray, shape (k, B, d)
        ``B`` bootstrap replicates of each of ``k`` prototypes.
    ci : float
        Interval coverage in (0, 1).

    Returns
    -------
    sd, low, high : ndarray of float32, shape (n, k)
    """
    check_ci(ci)
    boots = np.asarray(boots)
    k, b, d = boots.shape
    r = pearson_matrix(hog, boots.reshape(k * b, d)).reshape(len(hog), k, b)
    sd = np.std(r, axis=2, ddof=1)
    lo, hi = percentile_ci(r, ci=ci, axis=2, min_finite=1)
    return sd.astype(np.float32), lo.astype(np.float32), hi.astype(np.float32)


def robust_sd(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation from the median (NaN ignored; see
    :func:`mouseface.features.quality.robust_scale`)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        raise InputError("robust_sd needs at least 2 finite values")
    return robust_scale(v)[1]


def baseline_z(strength: np.ndarray, baseline: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Strength relative to the session's baseline median, in units of the animal's baseline SD.

    Parameters
    ----------
    strength : ndarray, shape (n, k)
    baseline : ndarray of bool, shape (n,)
        The session's baseline frames.
    sd : ndarray, shape (k,)
        The animal's robust baseline SD per prototype (> 0).

    Returns
    -------
    ndarray of float32, shape (n, k)
    """
    s = np.atleast_2d(np.asarray(strength, dtype=np.float64))
    base = s[np.asarray(baseline, dtype=bool)]
    if len(base) == 0:
        raise InputError("baseline_z: the session has no baseline frames")
    sd = np.asarray(sd, dtype=np.float64)
    if np.any(~np.isfinite(sd)) or np.any(sd <= 0):
        raise InputError("baseline_z: the baseline SD must be positive (constant baseline?)")
    return ((s - np.nanmedian(base, axis=0)) / sd).astype(np.float32)


def neutral_drift(
    baseline_hog: np.ndarray,
    reference: np.ndarray,
    *,
    n_boot: int = 200,
    ci: float = 0.95,
    rng: np.random.Generator | None = None,
) -> tuple[float, float, float]:
    """Distance ``1 - r`` of a session's neutral prototype from a reference neutral, with CI.

    Parameters
    ----------
    baseline_hog : ndarray, shape (m, d)
        The session's baseline frames (its neutral prototype is their mean).
    reference : ndarray, shape (d,)
        The animal's reference neutral prototype.
    n_boot : int
        Bootstrap replicates (baseline frames resampled with replacement).
    ci : float
    rng : numpy.random.Generator, optional

    Returns
    -------
    (distance, low, high) : tuple of float
    """
    x = np.asarray(baseline_hog, dtype=np.float64)
    if len(x) < 2:
        raise InputError("neutral_drift needs at least 2 baseline frames")
    rng = rng or np.random.default_rng(0)
    value = 1.0 - float(pearson_rows(x.mean(axis=0)[None, :], reference)[0])
    boots = bootstrap_prototypes(x, n_boot=n_boot, rng=rng)
    dist = 1.0 - pearson_rows(boots, reference)
    lo, hi = percentile_ci(dist, ci=ci, min_finite=1)
    return value, lo, hi
