"""Frame motion energy and per-frame quality flags."""

from __future__ import annotations

import cv2
import numpy as np

from mouseface.features.quality import robust_scale

__all__ = ["motion_energy", "brightness_flags", "motion_outliers"]


def motion_energy(frames: np.ndarray, *, previous: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute difference between each frame and the one before it.

    Parameters
    ----------
    frames : ndarray of uint8, shape (n, h, w)
        Consecutive gray frames.
    previous : ndarray of uint8, shape (h, w), optional
        The frame before ``frames[0]`` (from the previous chunk); without it the first value is 0.

    Returns
    -------
    ndarray of float32, shape (n,)
        Motion energy in gray levels per pixel.
    """
    out = np.zeros(len(frames), dtype=np.float32)
    diff = np.empty(frames.shape[1:], dtype=np.uint8)
    for i in range(len(frames)):
        before = frames[i - 1] if i else previous
        if before is not None:
            cv2.absdiff(frames[i], before, dst=diff)  # saturating |a - b| on uint8, SIMD
            out[i] = cv2.mean(diff)[0]
    return out


def brightness_flags(
    frames: np.ndarray, *, dark: float = 8.0, saturated: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Flag frames that are too dark or saturated to read a face from.

    Parameters
    ----------
    frames : ndarray of uint8, shape (n, h, w)
    dark : float
        A frame whose mean gray level is below this is flagged ``dark`` (lights off, dropped frame).
    saturated : float
        A frame with more than this fraction of pixels at 255 is flagged ``saturated``.

    Returns
    -------
    dark, saturated : ndarray of bool, shape (n,)
    """
    n = len(frames)
    npix = frames[0].size if n else 1
    mean = np.array([cv2.mean(f)[0] for f in frames])
    sat = np.array([npix - cv2.countNonZero(cv2.compare(f, 255, cv2.CMP_LT)) for f in frames])
    return mean < dark, sat / npix > saturated


def motion_outliers(motion: np.ndarray, *, z: float = 6.0) -> np.ndarray:
    """Flag frames whose motion energy is far above the session's typical motion.

    Uses a robust z-score: ``(m - median) / (1.4826 * MAD)`` > ``z``.

    Parameters
    ----------
    motion : ndarray, shape (n,)
        Motion energy of every frame of a session.
    z : float
        Threshold in robust standard deviations.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    motion = np.asarray(motion, dtype=float)
    med, sd = robust_scale(motion)
    if not sd > 0:  # no frame, or most frames equally still: nothing stands out
        return np.zeros(motion.shape, dtype=bool)
    return (motion - med) / sd > z
