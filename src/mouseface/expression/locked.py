"""Stimulus-locked trial-by-bin matrices, their mean with a bootstrap band, and the peak of the
mean (private; re-exported by :mod:`mouseface.expression.timecourse`)."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats as sps
from scipy.ndimage import uniform_filter1d

from mouseface.errors import InputError
from mouseface.stats import percentile_ci

__all__ = ["locked_matrix", "mean_ci", "empirical_peak"]


def locked_matrix(
    times: np.ndarray,
    values: np.ndarray,
    onsets: np.ndarray,
    *,
    span: tuple[float, float],
    fps: float,
    stops: np.ndarray | None = None,
    good: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial values in bins of ``1 / fps`` s around each onset.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Frame times of one session, seconds.
    values : ndarray, shape (n,)
        Per-frame readout.
    onsets : ndarray, shape (m,)
        Stimulus onsets, seconds (same clock).
    span : (float, float)
        Start and end of the trace relative to the onset, seconds.
    fps : float
        Bins per second.
    stops : ndarray, shape (m,), optional
        Absolute time from which each trial's trace is cut (NaN), e.g. the next onset.
    good : ndarray of bool, shape (n,), optional
        Frames to use.

    Returns
    -------
    t : ndarray, shape (b,)
        Bin centres relative to the onset, seconds.
    matrix : ndarray, shape (m, b)
        Mean value per bin and trial; NaN where a bin holds no frame.
    """
    if not fps > 0 or not span[1] > span[0]:
        raise InputError(f"locked_matrix: need fps > 0 and span[1] > span[0], got {fps}, {span}")
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    nb = int(np.floor((span[1] - span[0]) * fps + 1e-9)) + 1
    t = span[0] + np.arange(nb) / fps
    ok0 = np.isfinite(values) & np.isfinite(times)
    if good is not None:
        ok0 &= np.asarray(good, dtype=bool)
    onsets = np.asarray(onsets, dtype=np.float64)
    stops = np.full(onsets.shape, np.inf) if stops is None else np.asarray(stops, float)
    out = np.full((len(onsets), nb), np.nan)
    for k, (o, stop) in enumerate(zip(onsets, stops, strict=True)):
        idx = np.rint((times - o - span[0]) * fps).astype(np.int64)
        ok = ok0 & (idx >= 0) & (idx < nb) & (times < stop)
        s = np.bincount(idx[ok], weights=values[ok], minlength=nb)
        c = np.bincount(idx[ok], minlength=nb)
        out[k] = np.where(c > 0, s / np.maximum(c, 1), np.nan)
    return t, out


def _boot_means(M: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Per-bin trial means of ``n_boot`` resamples of the trials (rows of ``M``, drawn by
    :func:`scipy.stats.bootstrap`), shape (n_boot, b)."""
    m = len(M)

    def means(idx: np.ndarray, axis: int = -1) -> np.ndarray:  # idx: (batch, m) trial draws
        idx = np.moveaxis(idx, axis, -1).reshape(-1, m)
        W = np.zeros((len(idx), m))
        np.add.at(W, (np.repeat(np.arange(len(idx)), m), idx.ravel()), 1.0)
        return _weighted_means(M, W).T

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sps.DegenerateDataWarning)  # bins with no trial
        res = sps.bootstrap(
            (np.arange(m),),
            means,
            n_resamples=int(n_boot),
            vectorized=True,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return res.bootstrap_distribution.T


def _weighted_means(M: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Per-bin means of the trials weighted by each row of ``W`` (NaN-aware), (len(W), b)."""
    ok = np.isfinite(M)
    s = W @ np.where(ok, M, 0.0)
    c = W @ ok.astype(np.float64)
    return np.where(c > 0, s / np.where(c > 0, c, 1.0), np.nan)


def _nan_ci(boot: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    return percentile_ci(boot, ci=ci, axis=0, min_finite=1)


def mean_ci(
    matrix: np.ndarray, *, n_boot: int = 1000, ci: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean over trials per bin and its bootstrap interval (trials resampled).

    Parameters
    ----------
    matrix : ndarray, shape (m, b)
        Trial-by-bin values (NaN = missing).

    Returns
    -------
    mean, low, high : ndarray, shape (b,)
    n : ndarray of int, shape (b,)
        Trials with a value in each bin.
    """
    M = np.asarray(matrix, dtype=np.float64)
    n = np.isfinite(M).sum(axis=0)
    mean = _weighted_means(M, np.ones((1, len(M))))[0]
    if len(M) >= 2:
        boot = _boot_means(M, n_boot, seed)
        lo, hi = _nan_ci(boot, ci)
    else:
        lo = hi = np.full(M.shape[1], np.nan)
    lo = np.where(n >= 2, lo, np.nan)
    hi = np.where(n >= 2, hi, np.nan)
    return mean, lo, hi, n


def empirical_peak(
    t: np.ndarray,
    matrix: np.ndarray,
    *,
    after: float = 0.0,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, tuple[float, float, float]]:
    """Time and value of the maximum of the trial mean (3-bin running mean), from ``after`` s.

    Returns
    -------
    dict
        ``{"peak_time": (value, low, high), "peak": (value, low, high)}``; intervals from
        resampling trials.
    """
    t = np.asarray(t, dtype=np.float64)
    M = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    sel = t >= after
    if not sel.any() or len(M) == 0:
        raise InputError("empirical_peak: no bins after the onset")
    ts = t[sel]

    def peak(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = means[:, sel]
        ok = np.isfinite(m)
        num = uniform_filter1d(np.where(ok, m, 0.0), 3, axis=-1, mode="constant")
        den = uniform_filter1d(ok.astype(np.float64), 3, axis=-1, mode="constant")
        sm = np.where(den > 0, num / np.where(den > 0, den, 1.0), -np.inf)
        i = np.argmax(sm, axis=-1)
        return ts[i], np.take_along_axis(sm, i[:, None], axis=-1)[:, 0]

    pt, pv = peak(_weighted_means(M, np.ones((1, len(M)))))
    bt, bv = peak(_boot_means(M, n_boot, seed))
    bv = np.where(np.isfinite(bv), bv, np.nan)
    pt, pv = pt[0], pv[0]
    return {
        "peak_time": (float(pt), *percentile_ci(bt, ci=ci)),
        "peak": (float(pv), *percentile_ci(bv, ci=ci)),
    }
