"""Face traces as a calcium indicator would report them: convolution with the indicator's decay.

A neuron's dF/F is its spiking low-passed by the indicator (each spike adds a transient that
decays with time constant ``tau``: about 1 s for GCaMP6s, a few hundred ms for GCaMP6f; Chen
et al., Nature 499:295, 2013). A neuron that follows an expression therefore follows the
expression's strength convolved with that kernel, not the strength itself: the dF/F lags and
outlasts every change of the face. Correlating dF/F with the convolved strength (the standard
regressor of two-photon analyses, as in GLM designs of calcium data) recovers the correlation the
lag and smoothing would otherwise lose. The kernel is causal, so the regressor at an imaging
sample still depends only on face frames at or before it.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter, lfilter_zi

from mouseface.errors import InputError

__all__ = ["GCAMP6S_DECAY", "calcium_regressor"]

#: Default indicator decay time constant, seconds (GCaMP6s-like; GCaMP6f is ~0.3-0.5 s).
GCAMP6S_DECAY = 1.0


def calcium_regressor(face: np.ndarray, *, rate: float, decay: float = GCAMP6S_DECAY) -> np.ndarray:
    """Convolve face traces with a causal exponential calcium kernel of unit area.

    ``y[i] = a * y[i-1] + (1 - a) * x[i]`` with ``a = exp(-1 / (rate * decay))``: the face
    trace seen through an indicator with decay time constant ``decay`` (a first-order low-pass
    whose step response reaches 63 % after ``decay`` seconds). The filter starts at the first
    finite sample in the steady state of that sample's value; NaN samples inside the trace are
    held at the last finite value while filtering and are NaN again in the output (leading and
    trailing NaN, e.g. imaging samples outside the video, stay NaN).

    Parameters
    ----------
    face : numpy.ndarray
        ``(n_samples,)`` or ``(n_samples, n_traces)`` face traces on the imaging samples.
    rate : float
        Imaging rate, Hz (> 0).
    decay : float, optional
        Indicator decay time constant, seconds (default :data:`GCAMP6S_DECAY`); ``0`` returns
        the traces unchanged.

    Returns
    -------
    numpy.ndarray
        float64, the shape of ``face``.

    Raises
    ------
    mouseface.errors.InputError
        When ``rate <= 0`` or ``decay < 0``.
    """
    if not rate > 0 or not decay >= 0:
        raise InputError(
            f"calcium_regressor: rate must be > 0 and decay >= 0, got rate={rate}, decay={decay}; "
            "set neural: indicator_decay: to the indicator's decay time in seconds (0 = none)"
        )
    x = np.asarray(face, dtype=np.float64)
    if decay == 0:
        return x.copy()
    one = x.ndim == 1
    x = x[:, None] if one else x
    a = float(np.exp(-1.0 / (rate * decay)))
    b, den = [1.0 - a], [1.0, -a]
    out = np.full(x.shape, np.nan)
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        i0, i1 = int(np.argmax(ok)), len(col) - int(np.argmax(ok[::-1]))
        seg = col[i0:i1].copy()
        okseg = ok[i0:i1]
        if not okseg.all():  # hold the last finite value across inner gaps (no look-ahead)
            idx = np.where(okseg, np.arange(len(seg)), 0)
            seg = seg[np.maximum.accumulate(idx)]
        y, _ = lfilter(b, den, seg, zi=lfilter_zi(b, den) * seg[0])
        y[~okseg] = np.nan
        out[i0:i1, j] = y
    return out[:, 0] if one else out
