"""dF/F from raw fluorescence: neuropil subtraction and a running-percentile baseline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import percentile_filter

from mouseface.errors import InputError
from mouseface.neural.recording import NeuralRecording

__all__ = ["running_percentile", "dff", "recording_dff"]


def running_percentile(
    x: np.ndarray, *, window: int, percentile: float = 8.0, exact: bool = False
) -> np.ndarray:
    """Running percentile of each row over a centred window of ``window`` samples.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n, t)`` float traces.
    window : int
        Window length in samples (>= 1); edges use a reflected signal.
    percentile : float, optional
        Percentile in [0, 100] (default 8: the baseline of a sparsely active cell).
    exact : bool, optional
        ``True``: :func:`scipy.ndimage.percentile_filter` at every sample (slow for long
        windows). ``False`` (default): the percentile evaluated every ``window // 8`` samples
        and linearly interpolated in between, which differs from the exact filter only by how
        much the baseline moves within ``window / 8`` samples.

    Returns
    -------
    numpy.ndarray
        ``(n, t)`` float64 baseline.
    """
    x = np.asarray(x, dtype=np.float64)
    n, t = x.shape
    window = int(max(1, min(window, 2 * t - 1)))
    if exact or window < 16:
        return percentile_filter(x, percentile, size=(1, window), mode="reflect")
    step = max(1, window // 8)
    half = window // 2
    centres = np.arange(0, t, step)
    if centres[-1] != t - 1:
        centres = np.append(centres, t - 1)
    padded = np.pad(x, ((0, 0), (half, window - half - 1)), mode="reflect")
    out = np.empty((n, len(centres)))
    chunk = max(1, int(2e7 // (len(centres) * window)))  # ~160 MB of float64 at a time
    # numpy's "linear" percentile from one partition (np.percentile is ~3x slower here)
    pos = percentile / 100.0 * (window - 1)
    k0, k1 = int(np.floor(pos)), int(np.ceil(pos))
    for i in range(0, n, chunk):
        view = sliding_window_view(padded[i : i + chunk], window, axis=1)[:, centres]
        part = np.partition(view, k0, axis=2)
        lo = part[:, :, k0]
        hi = part[:, :, k0 + 1 :].min(axis=2) if k1 > k0 else lo  # the (k0 + 1)-th smallest
        out[i : i + chunk] = lo + (pos - k0) * (hi - lo)
    return np.stack([np.interp(np.arange(t), centres, row) for row in out])


def dff(
    F: np.ndarray,
    *,
    rate: float,
    neuropil: np.ndarray | None = None,
    r: float = 0.7,
    window: float = 300.0,
    percentile: float = 8.0,
    exact: bool = False,
    source: str = "traces",
) -> np.ndarray:
    """dF/F of raw fluorescence: ``Fc = F - r * Fneu``, ``F0`` = running percentile of ``Fc``,
    ``(Fc - F0) / F0``.

    Parameters
    ----------
    F : numpy.ndarray
        ``(n_neurons, n_times)`` raw fluorescence (a.u.).
    rate : float
        Sampling rate, Hz (converts ``window`` to samples).
    neuropil : numpy.ndarray or None, optional
        ``(n_neurons, n_times)`` neuropil fluorescence (suite2p Fneu); None: no subtraction.
    r : float, optional
        Neuropil coefficient (default 0.7, suite2p's convention).
    window : float, optional
        Baseline window, seconds (default 300: longer than a minutes-long state
        such as malaise, which a shorter running baseline would follow and remove).
    percentile : float, optional
        Baseline percentile (default 8).
    exact : bool, optional
        Use the exact (slow) percentile filter; see :func:`running_percentile`.
    source : str, optional
        Name of the input for error messages.

    Returns
    -------
    numpy.ndarray
        ``(n_neurons, n_times)`` float32 dF/F (dimensionless).

    Raises
    ------
    mouseface.errors.InputError
        When a neuron's baseline is <= 0 somewhere (the neuropil-corrected trace is not a
        fluorescence any more): lower ``r`` or drop the ROI.
    """
    Fc = np.asarray(F, dtype=np.float64)
    if neuropil is not None:
        Fc = Fc - r * np.asarray(neuropil, dtype=np.float64)
    F0 = running_percentile(
        Fc, window=int(round(window * rate)), percentile=percentile, exact=exact
    )
    bad = np.any(F0 <= 0, axis=1)
    if bad.any():
        raise InputError(
            f"{source}: the baseline of {int(bad.sum())} ROI(s) (first: row {int(np.argmax(bad))})"
            f" is <= 0 after neuropil subtraction with r={r}; lower the neuropil coefficient "
            "(neural: neuropil: 0.5) or remove those ROIs (iscell)"
        )
    return ((Fc - F0) / F0).astype(np.float32)


def recording_dff(
    rec: NeuralRecording,
    *,
    r: float = 0.7,
    window: float = 300.0,
    percentile: float = 8.0,
    exact: bool = False,
) -> NeuralRecording:
    """The recording as dF/F: computed (see :func:`dff`) when it holds raw F, unchanged when
    it is already dF/F."""
    if rec.kind == "dff":
        return rec
    out = dff(
        rec.traces,
        rate=rec.rate,
        neuropil=rec.neuropil,
        r=r,
        window=window,
        percentile=percentile,
        exact=exact,
        source=str(rec.source),
    )
    return replace(rec, traces=out, kind="dff", neuropil=None)
