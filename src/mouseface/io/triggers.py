"""Stimulus onsets encoded in the video itself (an LED or a pixel patch that lights up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.io.events import events_from_signal
from mouseface.io.video import VideoReader

__all__ = ["trigger_signal", "trigger_events"]


def trigger_signal(
    video: str | Path, *, roi: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean gray level of a patch in every frame.

    Parameters
    ----------
    video : str or Path
    roi : (x, y, w, h)
        Trigger patch in pixels (e.g. ``(0, 0, 10, 10)``, the DER videos' top-left square).

    Returns
    -------
    signal : ndarray of float64, shape (n,)
        Patch mean per frame (gray levels).
    times : ndarray of float64, shape (n,)
        Frame times (s) from the container's timestamps.
    """
    reader = VideoReader(video, roi=roi, chunk_size=512)
    sig, times = [], []
    for chunk in reader.chunks():
        sig.append(chunk.frames.reshape(len(chunk.frames), -1).mean(axis=1))
        times.append(chunk.times)
    return np.concatenate(sig), np.concatenate(times)


def trigger_events(
    video: str | Path,
    *,
    roi: tuple[int, int, int, int],
    threshold: float,
    label: str,
    min_gap: float = 0.5,
) -> pd.DataFrame:
    """Events table of the onsets where the patch brightness rises above ``threshold``.

    Raises
    ------
    InputError
        When no frame crosses the threshold (the message gives the patch's range).
    """
    signal, times = trigger_signal(video, roi=roi)
    df = events_from_signal(signal, times, threshold=threshold, label=label, min_gap=min_gap)
    if df.empty:
        raise InputError(
            f"{video}: no trigger found: the patch {','.join(map(str, roi))} ranges "
            f"{signal.min():.1f}-{signal.max():.1f} and never exceeds --threshold {threshold}; "
            "check the patch position and lower the threshold"
        )
    return df
