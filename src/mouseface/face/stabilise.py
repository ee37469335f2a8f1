"""Per-frame stabilisation against head or camera jitter (translation only, streaming).

The shifts follow the convention of :class:`mouseface.face.Transform`: ``(dy, dx)`` is the
translation that maps a frame onto the reference, so a frame whose content sits 3 pixels
right of the reference gets ``dx = -3``, and the aligned frame is the frame moved by
``(dy, dx)``.
"""

from __future__ import annotations

import cv2
import numpy as np

from mouseface.errors import InputError
from mouseface.face._phase import PhaseCorrelator

__all__ = ["Stabiliser"]

_METHODS = ("phase",)


class Stabiliser:
    """Align chunks of frames to one reference frame by sub-pixel translation.

    The reference spectrum and the Hann window are computed once; each frame then costs
    one forward and one (partial) inverse real DFT (whitened phase correlation, see
    ``mouseface.face._phase``) and one bilinear resampling with replicated borders
    (``cv2.getRectSubPix``).
    The object holds no state between calls, so chunks can be processed in any order or
    in parallel.

    Parameters
    ----------
    reference : ndarray, shape (h, w), uint8 or float
        Reference face, e.g. the median of the first frames of the session (same ROI as
        the frames to align). At least 16x16 pixels.
    max_shift : float, optional
        Largest jitter searched along each axis, in pixels (> 0; capped at half the size).
    method : {"phase"}, optional
        Shift estimator; only whitened phase correlation is implemented.

    Attributes
    ----------
    shape : tuple of int
        ``(h, w)`` of the reference and of the frames it accepts.
    """

    def __init__(
        self, reference: np.ndarray, *, max_shift: float = 20.0, method: str = "phase"
    ) -> None:
        ref = np.asarray(reference)
        if ref.ndim != 2 or min(ref.shape) < 16:
            raise InputError(
                f"Stabiliser reference has shape {ref.shape}; need one gray frame (h, w) of "
                "at least 16x16 pixels (e.g. the median of the first frames of the crop)."
            )
        if not np.issubdtype(ref.dtype, np.number) or not np.isfinite(ref).all():
            raise InputError(f"Stabiliser reference must be finite numbers; got {ref.dtype}.")
        if method not in _METHODS:
            raise InputError(f"Stabiliser method={method!r} is unknown; use one of {_METHODS}.")
        if not float(max_shift) > 0:
            raise InputError(f"max_shift={max_shift!r} must be a positive number of pixels.")
        self.shape: tuple[int, int] = (int(ref.shape[0]), int(ref.shape[1]))
        self.max_shift = float(max_shift)
        self.method = method
        self._correlator = PhaseCorrelator(ref.astype(np.float32), max_shift=self.max_shift)

    def shifts(self, frames: np.ndarray) -> np.ndarray:
        """Translations that map each frame onto the reference.

        Parameters
        ----------
        frames : ndarray, shape (n, h, w), uint8

        Returns
        -------
        ndarray, shape (n, 2), float64
            ``(dy, dx)`` per frame, in pixels.
        """
        frames = self._check(frames)
        out = np.empty((frames.shape[0], 2), dtype=np.float64)
        for i, frame in enumerate(frames):
            dy, dx, _ = self._correlator.displacement(frame)
            out[i] = (-dy, -dx)
        return out

    def transform(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Align a chunk of frames to the reference.

        Parameters
        ----------
        frames : ndarray, shape (n, h, w), uint8

        Returns
        -------
        aligned : ndarray, shape (n, h, w), uint8
            Frames moved by their shifts (bilinear, borders replicated).
        shifts : ndarray, shape (n, 2), float64
            ``(dy, dx)`` per frame in pixels, as returned by :meth:`shifts`.
        """
        frames = self._check(frames)
        h, w = self.shape
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        aligned = np.empty_like(frames)
        shifts = np.empty((frames.shape[0], 2), dtype=np.float64)
        for i, frame in enumerate(frames):
            dy, dx, _ = self._correlator.displacement(frame)
            shifts[i] = (-dy, -dx)
            # Bilinear, replicated border: the same as cv2.warpAffine, ~15x faster.
            aligned[i] = cv2.getRectSubPix(frame, (w, h), (cx + dx, cy + dy))
        return aligned, shifts

    def _check(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 3 or frames.shape[1:] != self.shape:
            raise InputError(
                f"frames of shape {frames.shape} do not match the Stabiliser reference "
                f"{self.shape}: pass a chunk (n, {self.shape[0]}, {self.shape[1]}) cropped "
                "with the same ROI as the reference."
            )
        if frames.dtype != np.uint8:
            raise InputError(f"Stabiliser needs uint8 frames; got {frames.dtype}.")
        return np.ascontiguousarray(frames)
