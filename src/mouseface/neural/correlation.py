"""Neuron-expression correlation with circular-shift shuffle p-values and Benjamini-Hochberg q.

For z-scored traces the Pearson r of a neuron with the strength trace circularly shifted by
``k`` samples is their circular cross-correlation at lag ``k`` divided by the length; one FFT per
neuron gives r at every shift at once, so 1000+ shuffles of hundreds of neurons cost a few
FFTs. Circular shifts keep each trace's autocorrelation (calcium kernels, slow expressions),
which independent permutation of samples would destroy. Shifts that leave the two traces
aligned are excluded: shifts shorter than ``min_shift``, and shifts shorter than the face trace's
own decorrelation lag (where its circular autocorrelation first falls below ``max_autocorr``).
A slow face trace (malaise lasts minutes: one event can fill half a session) still matches
itself after a shift of tens of seconds, so such shifts would put copies of the real signal into
the null distribution and leave a real neuron with p ~ 0.3. Which shifts are used depends on the
face trace only, never on the neuron, so under the null (a neuron independent of the face) every
used shift is as good as any other and the test stays valid.

Slow drift of a neuron (bleaching left over by the dF/F baseline, slow changes of excitability)
adds variance unrelated to a fast face trace and lowers its r; removing it with a high-pass
(running mean over ``drift_window`` subtracted from both traces, as drift regressors in a GLM do)
recovers it. The same high-pass would remove a slow state such as malaise from both traces,
so the window is at least ``drift_factor`` times the face trace's decorrelation lag: fast traces
are compared after a 60-s high-pass, a minutes-long state with (almost) none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import irfft, rfft
from scipy.ndimage import uniform_filter1d
from scipy.stats import false_discovery_control

from mouseface.errors import InputError

__all__ = ["ShuffleCorrelation", "shuffle_correlation", "decorrelation_lag", "bh_q"]


@dataclass(frozen=True, eq=False)
class ShuffleCorrelation:
    """Correlation of every neuron with every face trace, with shuffle p-values.

    Attributes
    ----------
    r : numpy.ndarray
        ``(n_neurons, n_traces)`` float64 Pearson r.
    p : numpy.ndarray
        ``(n_neurons, n_traces)`` float64 p-value, ``(1 + #{null >= observed}) / (1 + n)``.
    n_shuffles : int
        Number of circular shifts in the null distribution.
    min_shift : numpy.ndarray
        ``(n_traces,)`` int64 smallest shift used for each face trace, samples.
    drift_window : numpy.ndarray
        ``(n_traces,)`` float64 high-pass window used for each face trace, seconds (inf: none).
    n_samples : int
        Samples used (those where every face trace is finite).
    alternative : str
        ``"two-sided"`` (|r|), ``"greater"`` or ``"less"``.
    """

    r: np.ndarray
    p: np.ndarray
    n_shuffles: int
    min_shift: np.ndarray
    drift_window: np.ndarray
    n_samples: int
    alternative: str


def _zscore(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.mean(axis=axis, keepdims=True)
    sd = np.sqrt((x * x).mean(axis=axis, keepdims=True))
    return np.divide(x, sd, out=np.zeros_like(x), where=sd > 0)


def decorrelation_lag(face: np.ndarray, *, max_autocorr: float = float(np.exp(-1.0))):
    """First lag at which each face trace's circular autocorrelation falls below a level.

    Parameters
    ----------
    face : numpy.ndarray
        ``(n_samples,)`` or ``(n_samples, n_traces)`` finite traces.
    max_autocorr : float, optional
        Level (default ``1/e``: the e-folding time).

    Returns
    -------
    numpy.ndarray
        ``(n_traces,)`` int64 lag in samples, ``n_samples // 2`` when the autocorrelation never
        falls below the level (a trace dominated by one slow trend).
    """
    f = np.asarray(face, dtype=np.float64)
    f = f[:, None] if f.ndim == 1 else f
    n = f.shape[0]
    fz = _zscore(f.T)
    F = rfft(fz, n=n, axis=1)
    ac = irfft(F * np.conj(F), n=n, axis=1)[:, : n // 2 + 1] / n
    below = ac < max_autocorr
    return np.where(below.any(axis=1), np.argmax(below, axis=1), n // 2).astype(np.int64)


def _highpass(x: np.ndarray, window: int) -> np.ndarray:
    """``x`` minus its running mean over ``window`` samples along the last axis (reflect)."""
    return x - uniform_filter1d(x, size=window, axis=-1, mode="reflect")


def shuffle_correlation(
    traces: np.ndarray,
    face: np.ndarray,
    *,
    rate: float,
    n_shuffles: int = 1000,
    min_shift: float = 5.0,
    max_autocorr: float | None = float(np.exp(-1.0)),
    drift_window: float | None = 60.0,
    drift_factor: float = 10.0,
    alternative: str = "two-sided",
    seed: int | np.random.Generator | None = 0,
    chunk: int = 128,
) -> ShuffleCorrelation:
    """Pearson r of each neuron with each face trace; p from circular-shift shuffles.

    Parameters
    ----------
    traces : numpy.ndarray
        ``(n_neurons, n_samples)`` dF/F on the imaging samples.
    face : numpy.ndarray
        ``(n_samples,)`` or ``(n_samples, n_traces)`` face traces on the same samples (e.g.
        ``strength_<emotion>`` from :func:`mouseface.neural.align.align_face`); samples where
        any is NaN are dropped from all.
    rate : float
        Imaging rate, Hz (converts ``min_shift`` to samples).
    n_shuffles : int, optional
        Number of random circular shifts per face trace (default 1000), drawn uniformly from
        ``[k0, n - k0]`` samples with replacement, ``k0`` that face trace's smallest shift
        (all neurons share a face trace's shifts).
    min_shift : float, optional
        Smallest shift, seconds (default 5 s: longer than the calcium decay and most
        expressions).
    max_autocorr : float or None, optional
        A face trace's shifts are also at least the first lag at which its circular
        autocorrelation is below this (default ``1/e``, the trace's e-folding time); capped at
        ``n // 2`` samples. None: ``min_shift`` only.
    drift_window : float or None, optional
        High-pass window, seconds (default 60): the running mean over
        ``max(drift_window, drift_factor * lag)`` (``lag`` the face trace's ``1/e``
        decorrelation lag, :func:`decorrelation_lag`) is subtracted from the neurons and from
        that face trace before they are correlated; no high-pass when that window is longer
        than the recording. None: no high-pass.
    drift_factor : float, optional
        See ``drift_window`` (default 10: the high-pass keeps the face trace's own time scale).
    alternative : {"two-sided", "greater", "less"}, optional
        Tail of the test (default two-sided: compares ``|r|``).
    seed : int, numpy.random.Generator or None, optional
        Random source of the shifts (default 0: reproducible).
    chunk : int, optional
        Neurons per FFT batch (bounds memory to ``chunk * n_samples`` floats).

    Returns
    -------
    ShuffleCorrelation
    """
    x = np.asarray(traces, dtype=np.float64)
    f = np.asarray(face, dtype=np.float64)
    f = f[:, None] if f.ndim == 1 else f
    if x.ndim != 2 or f.shape[0] != x.shape[1]:
        raise InputError(
            f"shuffle_correlation: traces {x.shape} and face {f.shape} must share the sample axis"
        )
    if alternative not in ("two-sided", "greater", "less"):
        raise InputError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    keep = np.all(np.isfinite(f), axis=1)
    x, f = x[:, keep], f[keep]
    n = x.shape[1]
    k0 = int(np.ceil(min_shift * rate))
    if n - 2 * k0 < 1 or n < 3:
        raise InputError(
            f"shuffle_correlation: {n} overlapping samples are too few for shifts >= {min_shift} s "
            f"at {rate} Hz; record longer or lower min_shift"
        )
    rng = np.random.default_rng(seed)
    m = f.shape[1]
    lag = decorrelation_lag(f)
    k_face = np.full(m, k0, dtype=np.int64)
    if max_autocorr is not None:
        k_face = np.maximum(k_face, decorrelation_lag(f, max_autocorr=max_autocorr))
    shift_sets = [rng.integers(k, n - k + 1, size=int(n_shuffles)) for k in k_face]
    win = np.full(m, np.inf)
    if drift_window is not None:
        w = np.maximum(float(drift_window), drift_factor * lag / rate)
        win = np.where(w * rate < n, w, np.inf)
    r = np.empty((x.shape[0], m))
    count = np.zeros((x.shape[0], m))
    for w in np.unique(win):  # one pass over the neurons per distinct high-pass window
        cols = np.flatnonzero(win == w)
        size = None if np.isinf(w) else max(1, int(round(w * rate)))
        fw = f[:, cols].T
        fz = _zscore(fw if size is None else _highpass(fw, size))
        # the period must be exactly n (no zero padding): scipy's FFT handles any length
        F = np.conj(rfft(fz, n=n, axis=1))  # (len(cols), n//2+1)
        for i in range(0, x.shape[0], chunk):
            xi = x[i : i + chunk]
            xz = _zscore(xi if size is None else _highpass(xi, size))
            X = rfft(xz, n=n, axis=1)  # (c, n//2+1)
            for jj, j in enumerate(cols):
                cc = irfft(X * F[jj], n=n, axis=1) / n  # cc[:, k] = r with face shifted by k
                obs = cc[:, 0]
                null = cc[:, shift_sets[j]]
                r[i : i + chunk, j] = obs
                if alternative == "two-sided":
                    count[i : i + chunk, j] = (np.abs(null) >= np.abs(obs)[:, None] - 1e-12).sum(1)
                elif alternative == "greater":
                    count[i : i + chunk, j] = (null >= obs[:, None] - 1e-12).sum(1)
                else:
                    count[i : i + chunk, j] = (null <= obs[:, None] + 1e-12).sum(1)
    p = (1.0 + count) / (1.0 + int(n_shuffles))
    return ShuffleCorrelation(
        r=r,
        p=p,
        n_shuffles=int(n_shuffles),
        min_shift=k_face,
        drift_window=win,
        n_samples=n,
        alternative=alternative,
    )


def bh_q(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q) over all entries of ``p`` (any shape), with
    :func:`scipy.stats.false_discovery_control`; NaN entries stay NaN and are not counted."""
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = false_discovery_control(p[ok], method="bh")
    return q
