"""Frame-quality flags from per-frame HOG: brief transients (blinks) and occlusion (grooming).

Both detectors work on one signal, the *temporal instability* of the face: how far a frame's HOG
lies from the running median of its neighbours (:func:`temporal_instability`), as a robust
z-score over the session. An expression rises and decays smoothly over hundreds of
milliseconds, so it stays close to its running median; a paw stroking over the snout makes the
HOG jump from frame to frame, and a blink makes a brief excursion that returns.

- :func:`detect_occlusion`: the running median of the instability stays above ``threshold``
  for at least ``min_duration_s`` (grooming, a paw over the face, large movement).
- :func:`detect_transients`: the instability rises above ``threshold`` for at most
  ``max_duration_s`` with no other unstable frame within ``isolation_s`` (blinks, twitches;
  not the repeated excursions of licking or whisking bouts).
- :func:`quality_flags`: both, plus the pipeline's flags, as one table.

Validated against the synthetic ground truth (``truth/<session>.parquet`` columns ``blink``
and ``occlusion``) with :func:`flag_agreement`; the numbers are in ``docs``/the report. Blinks
change one 32-px HOG cell for ~3 frames and are not well separated from whisking and
twitches by this whole-face signal (low precision); occlusion is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import (
    binary_closing,
    binary_dilation,
    binary_opening,
    label,
    median_filter,
)
from scipy.stats import median_abs_deviation

from mouseface.errors import InputError
from mouseface.features._running_median import running_median

__all__ = [
    "robust_scale",
    "robust_z",
    "temporal_instability",
    "detect_occlusion",
    "detect_transients",
    "quality_flags",
    "flag_agreement",
]


def _frames(seconds: float, fps: float, *, odd: bool = False, minimum: int = 1) -> int:
    n = max(minimum, int(round(seconds * fps)))
    return n + 1 if odd and n % 2 == 0 else n


def robust_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and normal-consistent MAD of the finite values: the robust centre and SD.

    Parameters
    ----------
    values : ndarray of float, any shape
        NaN and infinite values are ignored.

    Returns
    -------
    (median, sd) : tuple of float
        ``sd`` is :func:`scipy.stats.median_abs_deviation` with ``scale="normal"`` (1.4826 x
        the median absolute deviation: the SD for normal data); ``(nan, nan)`` when no value
        is finite. The one robust centre and scale of the package (quality flags, motion
        outliers, baseline SDs of the calibration, the rest gate of ``library apply``).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(np.median(v)), float(median_abs_deviation(v, scale="normal"))


def robust_z(values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """``(values - median) / (1.4826 * MAD)`` of ``reference`` (default: ``values``).

    Parameters
    ----------
    values : ndarray, shape (n,)
    reference : ndarray, shape (m,), optional
        Values whose median and MAD define the scale (e.g. the baseline frames); NaNs ignored.

    Returns
    -------
    ndarray of float64, shape (n,)
        NaN everywhere when the reference has no finite value. A zero MAD is replaced by a
        small positive scale so that the z-scores stay finite.
    """
    values = np.asarray(values, dtype=np.float64)
    med, sd = robust_scale(values if reference is None else reference)
    if not np.isfinite(med):
        return np.full(values.shape, np.nan)
    if sd <= 0:
        sd = max(1e-12, 1e-6 * abs(med))
    return (values - med) / sd


def temporal_instability(
    hog: np.ndarray, *, fps: float, window_s: float = 0.55, chunk: int = 4096
) -> np.ndarray:
    """Robust z-score of each frame's distance from the running median of its neighbours.

    Parameters
    ----------
    hog : ndarray or lazy array (e.g. zarr), shape (n, d)
        Per-frame HOG of one session, in time order; read ``chunk`` rows at a time.
    fps : float
        Frame rate (frames per second), > 0.
    window_s : float
        Length of the running median, seconds (11 frames at 20 fps).
    chunk : int
        Frames processed at a time (memory bound for long videos).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``robust_z(||hog_t - median(hog_{t-w/2..t+w/2})||)`` over the session.
    """
    if not hasattr(hog, "ndim"):
        hog = np.asarray(hog)
    if hog.ndim != 2:
        raise InputError(
            f"temporal_instability: hog must be 2-D (frames, features), got {hog.shape}"
        )
    if not fps > 0:
        raise InputError(f"temporal_instability: fps must be > 0, got {fps}")
    n = hog.shape[0]
    w = _frames(window_s, fps, odd=True, minimum=3)
    half = w // 2
    dist = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        lo, hi = max(0, start - half), min(n, stop + half)
        block = np.asarray(hog[lo:hi], dtype=np.float32)
        med = running_median(block, w)
        dev = block[start - lo : stop - lo] - med[start - lo : stop - lo]
        dist[start:stop] = np.linalg.norm(dev, axis=1)
    return robust_z(dist)


def detect_occlusion(
    instability: np.ndarray,
    *,
    fps: float,
    threshold: float = 3.5,
    smooth_s: float = 0.55,
    min_duration_s: float = 0.5,
    bridge_s: float = 0.25,
    pad_s: float = 0.25,
) -> np.ndarray:
    """Frames of sustained instability: paw over the face, grooming, large movement.

    Parameters
    ----------
    instability : ndarray, shape (n,)
        From :func:`temporal_instability`.
    fps : float
        Frame rate.
    threshold : float
        Robust z above which the running median of the instability counts as unstable.
    smooth_s : float
        Length of that running median, seconds.
    min_duration_s : float
        Shorter unstable runs are dropped, seconds.
    bridge_s : float
        Gaps shorter than this between unstable runs are filled, seconds.
    pad_s : float
        Each run is widened by this on both sides, seconds (the paw's approach).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    x = np.nan_to_num(np.asarray(instability, dtype=np.float64), nan=0.0)
    if x.size == 0:
        return np.zeros(0, dtype=bool)
    s = median_filter(x, size=_frames(smooth_s, fps, odd=True), mode="nearest")
    on = s > threshold
    on = binary_closing(on, np.ones(_frames(bridge_s, fps), dtype=bool), border_value=0) | on
    on = binary_opening(on, np.ones(_frames(min_duration_s, fps), dtype=bool))
    return binary_dilation(on, np.ones(2 * _frames(pad_s, fps) + 1, dtype=bool))


def detect_transients(
    instability: np.ndarray,
    *,
    fps: float,
    threshold: float = 3.0,
    max_duration_s: float = 0.3,
    isolation_s: float = 0.5,
) -> np.ndarray:
    """Frames of brief, isolated excursions of the face (blinks, twitches).

    Parameters
    ----------
    instability : ndarray, shape (n,)
        From :func:`temporal_instability`.
    fps : float
        Frame rate.
    threshold : float
        Robust z above which a frame is unstable.
    max_duration_s : float
        Longest run counted as a transient, seconds.
    isolation_s : float
        A run with another unstable frame closer than this is part of a bout (licking,
        whisking, grooming), not a transient, seconds.

    Returns
    -------
    ndarray of bool, shape (n,)
        The transient runs, widened by one frame on each side.
    """
    x = np.nan_to_num(np.asarray(instability, dtype=np.float64), nan=0.0)
    if x.size == 0:
        return np.zeros(0, dtype=bool)
    on = x > threshold
    runs, n_runs = label(on)
    if n_runs == 0:
        return np.zeros(x.shape, dtype=bool)
    idx = np.flatnonzero(on)
    ids = runs[idx]
    starts = np.full(n_runs, x.size)
    ends = np.full(n_runs, -1)
    np.minimum.at(starts, ids - 1, idx)
    np.maximum.at(ends, ids - 1, idx)
    gap = _frames(isolation_s, fps)
    prev_end = np.r_[-(10**9), ends[:-1]]
    next_start = np.r_[starts[1:], 10**9]
    keep = (
        (ends - starts + 1 <= _frames(max_duration_s, fps))
        & (starts - prev_end > gap)
        & (next_start - ends > gap)
    )
    out = np.isin(runs, np.flatnonzero(keep) + 1)
    return binary_dilation(out, np.ones(3, dtype=bool))


def quality_flags(
    hog: np.ndarray,
    *,
    fps: float,
    good: np.ndarray | None = None,
    motion_outlier: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-frame quality flags of one session.

    Parameters
    ----------
    hog : ndarray, shape (n, d)
        Per-frame HOG in time order.
    fps : float
        Frame rate.
    good : ndarray of bool, shape (n,), optional
        The pipeline's ``good`` column (False: dark or saturated frame).
    motion_outlier : ndarray of bool, shape (n,), optional
        The pipeline's ``motion_outlier`` column (unusually large motion energy).

    Returns
    -------
    DataFrame
        Columns ``instability`` (float), ``transient``, ``occlusion``, ``motion``,
        ``bad_image`` and ``flagged`` (any of them), one row per frame.
    """
    n = hog.shape[0]
    inst = temporal_instability(hog, fps=fps)
    out = pd.DataFrame(
        {
            "instability": inst,
            "transient": detect_transients(inst, fps=fps),
            "occlusion": detect_occlusion(inst, fps=fps),
            "motion": np.zeros(n, dtype=bool)
            if motion_outlier is None
            else np.asarray(motion_outlier, dtype=bool),
            "bad_image": np.zeros(n, dtype=bool) if good is None else ~np.asarray(good, dtype=bool),
        }
    )
    out["flagged"] = out[["transient", "occlusion", "motion", "bad_image"]].any(axis=1)
    return out


def flag_agreement(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of a frame flag against ground truth.

    Parameters
    ----------
    flagged, truth : ndarray of bool, shape (n,)

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (NaN where undefined), ``n_flagged``, ``n_true``.
    """
    f = np.asarray(flagged, dtype=bool)
    t = np.asarray(truth, dtype=bool)
    if f.shape != t.shape:
        raise InputError(f"flag and truth lengths differ: {f.shape} vs {t.shape}")
    tp = float(np.sum(f & t))
    p = tp / f.sum() if f.sum() else float("nan")
    r = tp / t.sum() if t.sum() else float("nan")
    f1 = 2 * p * r / (p + r) if np.isfinite(p) and np.isfinite(r) and p + r > 0 else float("nan")
    return {
        "precision": p,
        "recall": r,
        "f1": f1,
        "n_flagged": int(f.sum()),
        "n_true": int(t.sum()),
    }
