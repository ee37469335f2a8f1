"""Stimulus-locked time courses and their rise-then-decay fit.

A trial's expression is modelled as (the form the synthetic generator uses, and the simplest one
with an onset latency, a rise while the stimulus drives the state and an exponential decay)::

    y(t) = A * g(t - L),   g(s) = 0                                     for s < 0
                           g(s) = 1 - exp(-s / rise)                     for 0 <= s < D
                           g(s) = (1 - exp(-D / rise)) exp(-(s - D) / decay)   for s >= D

with ``L`` the onset latency, ``D`` the drive (the stimulus duration of the trial, from the
events' ``duration``; fitted when unknown), ``rise`` and ``decay`` time constants (s). The peak
is at ``L + D`` with amplitude ``A (1 - exp(-D / rise))``. Parameters are fitted by least squares
(:func:`scipy.optimize.curve_fit`) to every trial's baseline-corrected trace at once, and their
intervals come from resampling trials (bootstrap).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from scipy.optimize import curve_fit

from mouseface.errors import InputError
from mouseface.expression.locked import empirical_peak, locked_matrix, mean_ci
from mouseface.stats import percentile_ci

__all__ = [
    "rise_decay",
    "locked_matrix",
    "mean_ci",
    "empirical_peak",
    "RiseDecayFit",
    "fit_rise_decay",
    "bootstrap_rise_decay",
    "PARAMS",
]

#: Fitted parameters, in order: amplitude (readout units), latency (s), rise (s), decay (s),
#: drive (s; fixed when the trials' durations are known).
PARAMS = ("amplitude", "latency", "rise", "decay", "drive")


def rise_decay(
    t: np.ndarray,
    *,
    amplitude: float,
    latency: float,
    rise: float,
    decay: float,
    drive: np.ndarray | float,
) -> np.ndarray:
    """The rise-then-exponential-decay model (see module docstring).

    Parameters
    ----------
    t : ndarray
        Time since stimulus onset, seconds, any shape.
    amplitude, latency, rise, decay : float
        Model parameters (rise, decay > 0 s).
    drive : float or ndarray broadcastable to ``t``
        Drive duration(s), seconds (>= 0).

    Returns
    -------
    ndarray of float64, shape of ``t``
    """
    t = np.asarray(t, dtype=np.float64)
    drive = np.asarray(drive, dtype=np.float64)
    s = t - latency
    rising = -np.expm1(-np.clip(s, 0.0, drive) / rise)
    after = np.exp(-np.clip(s - drive, 0.0, None) / decay)
    return np.where(s < 0, 0.0, amplitude * rising * after)


@dataclass(frozen=True)
class RiseDecayFit:
    """A fitted rise-then-decay model.

    Attributes
    ----------
    amplitude, latency, rise, decay, drive : float
        Parameters (readout units, s, s, s, s).
    drive_fixed : bool
        Whether the drive came from the trials' durations (else it was fitted).
    peak_time : float
        ``latency + drive`` (median drive), s after onset.
    peak : float
        Model value at the peak.
    r2 : float
        Fraction of the variance of the trial data explained.
    n_trials : int
    observed_decay : float
        Seconds of data after the peak (how much of the decay was seen).
    """

    amplitude: float
    latency: float
    rise: float
    decay: float
    drive: float
    drive_fixed: bool
    peak_time: float
    peak: float
    r2: float
    n_trials: int
    observed_decay: float

    def curve(self, t: np.ndarray) -> np.ndarray:
        """Model at times ``t`` (s after onset) with the median drive."""
        return rise_decay(
            t,
            amplitude=self.amplitude,
            latency=self.latency,
            rise=self.rise,
            decay=self.decay,
            drive=self.drive,
        )


_MAX_DECAY = 1e5


def _stack(t: np.ndarray, matrix: np.ndarray, drives: np.ndarray):
    """Mean trace per distinct drive and its trial count per bin: least squares on these,
    weighted by the counts, equals least squares on every trial's values (up to a constant)."""
    M = np.asarray(matrix, dtype=np.float64)
    drives = np.asarray(drives, dtype=np.float64)
    ts, ds, ys, ns = [], [], [], []
    for dv in np.unique(drives):
        sub = M[drives == dv]
        n = np.isfinite(sub).sum(axis=0)
        ok = n > 0
        ts.append(t[ok])
        ds.append(np.full(int(ok.sum()), dv))
        ys.append(np.nansum(sub[:, ok], axis=0) / n[ok])
        ns.append(n[ok])
    return np.concatenate(ts), np.concatenate(ds), np.concatenate(ys), np.concatenate(ns)


def _all_points(t: np.ndarray, M: np.ndarray, drives: np.ndarray):
    T = np.broadcast_to(t[None, :], M.shape)
    D = np.broadcast_to(drives[:, None], M.shape)
    ok = np.isfinite(M)
    return T[ok], D[ok], M[ok]


def _guess(t: np.ndarray, y: np.ndarray, drive: float) -> list[float]:
    order = np.argsort(t)
    tt, yy = t[order], y[order]
    k = max(1, len(yy) // 200)
    sm = np.convolve(yy, np.ones(k) / k, mode="same")
    ip = int(np.argmax(np.abs(sm)))
    amp = float(sm[ip]) or 1e-3
    after = np.flatnonzero((tt > tt[ip]) & (np.abs(sm) < abs(amp) / np.e))
    decay = float(tt[after[0]] - tt[ip]) if after.size else max(10.0, 2 * float(tt[-1] - tt[ip]))
    return [amp, 0.1, 0.3, max(decay, 0.1), drive]


def fit_rise_decay(
    t: np.ndarray,
    matrix: np.ndarray,
    *,
    drives: np.ndarray | None = None,
    p0: list[float] | None = None,
    max_latency: float = 2.0,
) -> RiseDecayFit:
    """Fit the rise-then-decay model to trial traces.

    Parameters
    ----------
    t : ndarray, shape (b,)
        Bin times relative to onset, seconds.
    matrix : ndarray, shape (m, b)
        Baseline-corrected trial traces (NaN = missing).
    drives : ndarray, shape (m,), optional
        Each trial's drive (stimulus duration, s). None or any non-finite/<= 0 value: the
        drive is fitted (one value for all trials).
    p0 : list of float, optional
        Start values ``[amplitude, latency, rise, decay, drive]``.
    max_latency : float
        Upper bound of the latency, s.

    Returns
    -------
    RiseDecayFit

    Raises
    ------
    InputError
        Fewer than 2 trials or 8 finite values, or a fit that does not converge.
    """
    t = np.asarray(t, dtype=np.float64)
    M = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    m = len(M)
    fixed = drives is not None and np.all(np.isfinite(drives)) and np.all(np.asarray(drives) > 0)
    d = np.asarray(drives, float) if fixed else np.ones(m)
    tt, dd, yy, nn = _stack(t, M, d)
    if m < 2 or nn.sum() < 8:
        raise InputError(
            f"a time-course fit needs at least 2 trials with data, got {m} trials and "
            f"{int(nn.sum())} values"
        )
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.05
    start = p0 or _guess(tt, yy, float(np.median(d)))
    start = list(start)
    lat_lo = max(float(t[0]), -1.0)

    # decay as a rate (1/s) so that "no visible decay" (rate 0) is inside the bounds and the
    # fit stays well conditioned when the decay is much slower than the data are long
    def model(x, amp, lat, rise_rate, decay_rate, *drive):
        dr = x[1] if fixed else drive[0]
        s = x[0] - lat
        rising = -np.expm1(-np.clip(s, 0.0, dr) * rise_rate)
        after = np.exp(-np.clip(s - dr, 0.0, None) * decay_rate)
        return np.where(s < 0, 0.0, amp * rising * after)

    lo = [-np.inf, lat_lo, 1.0 / 60.0, 0.0, dt]
    hi = [np.inf, max_latency, 4.0 / dt, 4.0 / dt, max(2 * float(t[-1]), 2 * dt)]
    x0 = [start[0], start[1], 1.0 / max(start[2], 1e-6), 1.0 / max(start[3], 1e-6), start[4]]
    x0 = [float(np.clip(v, a + 1e-9, b - 1e-9)) if np.isfinite(a) else float(v)
          for v, a, b in zip(x0, lo, hi, strict=True)]  # fmt: skip
    k = 4 if fixed else 5  # the drive is a parameter only when the durations are unknown
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            popt, _ = curve_fit(
                model,
                np.vstack([tt, dd]),
                yy,
                p0=x0[:k],
                sigma=1.0 / np.sqrt(nn),
                bounds=(lo[:k], hi[:k]),
                max_nfev=2000,
            )
        except (RuntimeError, ValueError) as exc:
            raise InputError(f"the rise-then-decay model did not converge: {exc}") from None
    amp, lat, rr, dr_ = popt[:4]
    drv = popt[4] if not fixed else float("nan")
    rise = float(1.0 / rr)
    decay = float(1.0 / dr_) if dr_ > 1.0 / _MAX_DECAY else float("inf")
    drive = float(np.median(d)) if fixed else float(drv)
    # R^2 over every trial value: total = within-bin + between-bin sums of squares
    tt_all, dd_all, yy_all = _all_points(t, M, d)
    res = yy_all - model(np.vstack([tt_all, dd_all]), *popt)
    ss = float(((yy_all - yy_all.mean()) ** 2).sum())
    peak_time = float(lat + drive)
    last = np.array([t[np.isfinite(row)].max() if np.isfinite(row).any() else np.nan for row in M])
    return RiseDecayFit(
        amplitude=float(amp),
        latency=float(lat),
        rise=rise,
        decay=decay,
        drive=drive,
        drive_fixed=bool(fixed),
        peak_time=peak_time,
        peak=float(amp * -np.expm1(-drive / rise)),
        r2=float(1 - (res**2).sum() / ss) if ss > 0 else float("nan"),
        n_trials=int(m),
        observed_decay=float(np.nanmedian(last) - peak_time),
    )


def bootstrap_rise_decay(
    t: np.ndarray,
    matrix: np.ndarray,
    *,
    drives: np.ndarray | None = None,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: int = 0,
    max_latency: float = 2.0,
) -> tuple[RiseDecayFit, dict[str, tuple[float, float]]]:
    """Fit and bootstrap (trials resampled by :func:`scipy.stats.bootstrap`) the
    rise-then-decay model.

    Returns
    -------
    fit : RiseDecayFit
        Fit to all trials.
    intervals : dict
        ``{name: (low, high)}`` for amplitude, latency, rise, decay, drive, peak_time and peak;
        replicates whose fit fails are dropped (NaN bounds when fewer than 10 succeed).
    """
    fit = fit_rise_decay(t, matrix, drives=drives, max_latency=max_latency)
    M = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    p0 = [fit.amplitude, fit.latency, fit.rise, fit.decay, fit.drive]
    names = ("amplitude", "latency", "rise", "decay", "drive", "peak_time", "peak")

    def refit(idx: np.ndarray) -> np.ndarray:  # one resample of trial indices
        try:
            f = fit_rise_decay(
                t,
                M[idx],
                drives=None if drives is None else np.asarray(drives)[idx],
                p0=p0,
                max_latency=max_latency,
            )
        except InputError:
            return np.full(len(names), np.nan)
        return np.array([getattr(f, k) for k in names], dtype=np.float64)

    # failed refits are NaN; a replicate with no visible decay has decay = inf, which makes
    # scipy's standard error (unused here) inf - inf: its "invalid value" is not ours to report
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", sps.DegenerateDataWarning)
        res = sps.bootstrap(
            (np.arange(len(M)),),
            refit,
            n_resamples=int(n_boot),
            vectorized=False,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    reps = dict(zip(names, np.atleast_2d(res.bootstrap_distribution), strict=True))
    out = {k: percentile_ci(v, ci=ci) for k, v in reps.items() if k != "decay"}
    # the interval of the decay comes from that of its rate (a rate of 0 = no visible decay:
    # an unbounded upper limit)
    with np.errstate(divide="ignore"):
        rate = np.where(np.isnan(reps["decay"]), np.nan, 1.0 / reps["decay"])
    r_lo, r_hi = percentile_ci(rate, ci=ci)
    out["decay"] = (
        float(1.0 / r_hi) if r_hi > 0 else float("inf"),  # every resample saw no decay
        float(1.0 / r_lo) if r_lo > 0 else float("inf"),
    )
    return fit, out
