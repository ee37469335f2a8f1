"""Phase correlation against a fixed reference, with the reference spectrum computed once.

Used by the stabiliser (one call per frame) and by the coarse registration search (one
call per rotation/scale candidate). ``cv2.phaseCorrelate`` is not used: it recomputes the
reference spectrum on every call and, in OpenCV 5.0, multiplies its inputs by the window
in place.

The reference is windowed (Hann), its spectrum ``R`` is whitened once,
``G = R / (|R|^2 + eps^2)``, and stored in OpenCV's packed (CCS) real-DFT layout, rolled so
that the searched displacements ``-m..m`` come first. For a frame with windowed spectrum
``F`` the correlation surface is ``idft(F * conj(G))``: where ``|R| >> eps`` this is the
phase-correlation term ``exp(-i w.d)``, elsewhere a plain cross-correlation term, which is
more robust when the face changes between frames. Each frame costs one forward real DFT,
one spectrum product and an inverse DFT of only ``2m + 3`` output rows; the peak is refined
to sub-pixel precision by a parabola through its neighbours along each axis.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Regularisation of the whitening, as a multiple of the median reference amplitude (larger
#: is closer to plain cross-correlation: more robust when the face changes between frames).
_EPS_FRACTION = 3.0


class PhaseCorrelator:
    """Translation of images relative to one reference, by whitened phase correlation.

    Parameters
    ----------
    reference : ndarray, shape (h, w), float32
        At least 8x8 pixels.
    max_shift : float or None
        Largest displacement searched along each axis, in pixels; ``None`` (or a larger
        value) searches up to about half the size.
    """

    def __init__(self, reference: np.ndarray, *, max_shift: float | None = None) -> None:
        ref = np.asarray(reference, dtype=np.float32)
        self.shape: tuple[int, int] = (int(ref.shape[0]), int(ref.shape[1]))
        h, w = self.shape
        limit = np.inf if max_shift is None else max(1, int(np.ceil(max_shift)))
        # Displacements -m..m are searched; the surface is rolled by m + 1 so that they sit
        # in rows/columns 1..2m+1 with a neighbour on each side for the sub-pixel fit.
        self._my = int(min(limit, (h - 3) // 2))
        self._mx = int(min(limit, (w - 3) // 2))
        self.window = cv2.createHanningWindow((w, h), cv2.CV_32F)
        spec = np.fft.rfft2((ref - ref.mean()) * self.window)
        amp2 = spec.real**2 + spec.imag**2
        eps2 = (_EPS_FRACTION * float(np.median(np.sqrt(amp2)))) ** 2 + 1e-12
        filt = spec / (amp2 + eps2)
        ky = np.fft.fftfreq(h, 1.0 / h)[:, None]
        kx = np.fft.rfftfreq(w, 1.0 / w)[None, :]
        # Brightness: the windowed mean lives in the lowest bins (Hann has 3 per axis).
        filt[(np.abs(ky) <= 1) & (kx <= 1)] = 0.0
        filt *= np.exp(2j * np.pi * (ky * (self._my + 1) / h + kx * (self._mx + 1) / w))
        # Back to a real image, then into OpenCV's packed layout (exact: filt is Hermitian).
        self._filter = cv2.dft(np.fft.irfft2(filt, s=(h, w)).astype(np.float32))
        self._norm = 1.0 / (h * w)

    def displacement(self, image: np.ndarray) -> tuple[float, float, float]:
        """Displacement ``(dy, dx)`` of ``image`` content relative to the reference.

        Parameters
        ----------
        image : ndarray, shape (h, w), uint8 or float32

        Returns
        -------
        dy, dx : float
            Sub-pixel displacement in pixels (``image(p) ~ reference(p - d)``).
        peak : float
            Height of the correlation peak (about 1 for a perfect match, ~0 for none).
        """
        my, mx = self._my, self._mx
        spec = cv2.dft(cv2.multiply(image, self.window, dtype=cv2.CV_32F))
        surface = cv2.idft(
            cv2.mulSpectrums(spec, self._filter, 0, conjB=True),
            flags=cv2.DFT_REAL_OUTPUT,
            nonzeroRows=2 * my + 3,
        )
        sub = surface[1 : 2 * my + 2, 1 : 2 * mx + 2]
        iy, ix = np.unravel_index(int(np.argmax(sub)), sub.shape)
        py, px = int(iy) + 1, int(ix) + 1
        peak = float(surface[py, px])
        dy = _parabola(float(surface[py - 1, px]), peak, float(surface[py + 1, px]))
        dx = _parabola(float(surface[py, px - 1]), peak, float(surface[py, px + 1]))
        return (py - my - 1 + dy, px - mx - 1 + dx, peak * self._norm)


def _parabola(left: float, centre: float, right: float) -> float:
    """Offset in ``[-0.5, 0.5]`` of the vertex of the parabola through three samples."""
    den = left - 2.0 * centre + right
    if den >= 0.0:
        return 0.0
    return max(-0.5, min(0.5, 0.5 * (left - right) / den))
