"""Frame motion energy and per-frame quality flags."""

from __future__ import annotations

import numpy as np

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
    f = frames.astype(np.int16)
    out = np.empty(len(frames), dtype=np.float32)
    if len(frames) > 1:
        out[1:] = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2))
    if len(frames):
        out[0] = 0.0 if previous is None else np.abs(f[0] - previous.astype(np.int16)).mean()
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
    mean = frames.reshape(len(frames), -1).mean(axis=1)
    sat = (frames.reshape(len(frames), -1) >= 255).mean(axis=1)
    return mean < dark, sat > saturated


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
    if motion.size == 0:
        return np.zeros(0, dtype=bool)
    med = np.median(motion)
    mad = 1.4826 * np.median(np.abs(motion - med))
    if mad == 0:
        return np.zeros(motion.shape, dtype=bool)
    return (motion - med) / mad > z
