"""Neuron-expression correlation with circular-shift shuffle p-values and Benjamini-Hochberg q.

For z-scored traces the Pearson r of a neuron with the strength trace circularly shifted by
``k`` samples is their circular cross-correlation at lag ``k`` divided by the length; one FFT per
neuron gives r at every shift at once, so 1000+ shuffles of hundreds of neurons cost a few
FFTs. Circular shifts keep each trace's autocorrelation (calcium kernels, slow expressions),
which independent permutation of samples would destroy; shifts shorter than ``min_shift`` are
excluded because they leave the two traces aligned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import irfft, rfft
from scipy.stats import false_discovery_control

from mouseface.errors import InputError

__all__ = ["ShuffleCorrelation", "shuffle_correlation", "bh_q"]


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
    min_shift : int
        Smallest shift used, samples.
    n_samples : int
        Samples used (those where every face trace is finite).
    alternative : str
        ``"two-sided"`` (|r|), ``"greater"`` or ``"less"``.
    """

    r: np.ndarray
    p: np.ndarray
    n_shuffles: int
    min_shift: int
    n_samples: int
    alternative: str


def _zscore(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.mean(axis=axis, keepdims=True)
    sd = np.sqrt((x * x).mean(axis=axis, keepdims=True))
    return np.divide(x, sd, out=np.zeros_like(x), where=sd > 0)


def shuffle_correlation(
    traces: np.ndarray,
    face: np.ndarray,
    *,
    rate: float,
    n_shuffles: int = 1000,
    min_shift: float = 5.0,
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
        Number of random circular shifts (default 1000), drawn uniformly from
        ``[min_shift, n - min_shift]`` samples (with replacement; all traces share them).
    min_shift : float, optional
        Smallest shift, seconds (default 5 s: longer than the calcium decay and most
        expressions).
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
    shifts = rng.integers(k0, n - k0 + 1, size=int(n_shuffles))
    xz, fz = _zscore(x), _zscore(f.T)  # (N, n), (m, n)
    # the period must be exactly n (no zero padding): scipy's FFT handles any length
    F = np.conj(rfft(fz, n=n, axis=1))  # (m, n//2+1)
    m = fz.shape[0]
    r = np.empty((x.shape[0], m))
    count = np.zeros((x.shape[0], m))
    for i in range(0, x.shape[0], chunk):
        X = rfft(xz[i : i + chunk], n=n, axis=1)  # (c, n//2+1)
        for j in range(m):
            cc = irfft(X * F[j], n=n, axis=1) / n  # cc[:, k] = r with face shifted by k
            obs = cc[:, 0]
            null = cc[:, shifts]
            r[i : i + chunk, j] = obs
            if alternative == "two-sided":
                count[i : i + chunk, j] = (np.abs(null) >= np.abs(obs)[:, None] - 1e-12).sum(1)
            elif alternative == "greater":
                count[i : i + chunk, j] = (null >= obs[:, None] - 1e-12).sum(1)
            else:
                count[i : i + chunk, j] = (null <= obs[:, None] + 1e-12).sum(1)
    p = (1.0 + count) / (1.0 + len(shifts))
    return ShuffleCorrelation(
        r=r, p=p, n_shuffles=len(shifts), min_shift=k0, n_samples=n, alternative=alternative
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
