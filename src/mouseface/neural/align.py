"""Face traces on imaging times without look-ahead, and trial onsets as imaging samples.

Each imaging sample at time ``t`` (video clock) gets the mean of the video frames with time in
``(t - dt, t]`` (``dt`` = the imaging sample period), or the last frame at or before ``t``
when no frame falls in that window; never a frame after ``t``. So a step in a face trace at
time ``s`` appears first in the imaging sample at the first ``t >= s``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mouseface.errors import InputError

__all__ = ["resample_causal", "align_face", "face_columns", "trial_samples"]

_FACE = re.compile(r"^(change|strength_.+|p_.+|predicted)$")


def resample_causal(
    frame_times: np.ndarray,
    values: np.ndarray,
    sample_times: np.ndarray,
    *,
    window: float | None = None,
) -> np.ndarray:
    """Mean of the frames in ``(t - window, t]`` for every sample time ``t`` (no look-ahead).

    Parameters
    ----------
    frame_times : numpy.ndarray
        ``(n_frames,)`` increasing video frame times, seconds.
    values : numpy.ndarray
        ``(n_frames,)`` or ``(n_frames, k)`` per-frame values; NaN frames are skipped.
    sample_times : numpy.ndarray
        ``(n_samples,)`` imaging sample times on the video clock, seconds.
    window : float or None, optional
        Averaging window, seconds (default: the median imaging sample interval).

    Returns
    -------
    numpy.ndarray
        ``(n_samples,)`` or ``(n_samples, k)`` float64; a sample with no finite frame at or
        before it gets the last finite frame before it, and NaN before the first frame.
    """
    ft = np.asarray(frame_times, dtype=np.float64)
    st = np.asarray(sample_times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    one = v.ndim == 1
    v = v.reshape(len(ft), -1)
    if window is None:
        window = float(np.median(np.diff(st))) if st.size > 1 else 0.0
    ok = np.isfinite(v)
    cs = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(np.where(ok, v, 0.0), axis=0)])
    cn = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(ok, axis=0)])
    hi = np.searchsorted(ft, st, side="right")  # frames with time <= t
    lo = np.searchsorted(ft, st - window, side="right")  # frames with time <= t - window
    n = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (cs[hi] - cs[lo]) / n
    # no finite frame inside the window: hold the last finite frame at or before t
    empty = n == 0
    if empty.any():
        idx = np.where(ok, np.arange(len(ft))[:, None], -1)
        last = np.maximum.accumulate(idx, axis=0)  # (n_frames, k): last finite frame index
        last = np.vstack([np.full((1, v.shape[1]), -1), last])[hi]  # at or before t
        held = np.where(last >= 0, v[np.clip(last, 0, None), np.arange(v.shape[1])], np.nan)
        out = np.where(empty, held, out)
    return out[:, 0] if one else out


def face_columns(frames: pd.DataFrame) -> list[str]:
    """The numeric face-trace columns of a ``frames.parquet`` table: ``change``,
    ``strength_<emotion>``, ``p_<class>``."""
    return [
        c
        for c in frames.columns
        if _FACE.match(str(c)) and c != "predicted" and pd.api.types.is_numeric_dtype(frames[c])
    ]


def align_face(
    frames: pd.DataFrame,
    sample_times: np.ndarray,
    *,
    columns: Sequence[str] | None = None,
    window: float | None = None,
    source: str = "frames.parquet",
) -> pd.DataFrame:
    """Face traces of ``frames.parquet`` resampled onto imaging times without look-ahead.

    Parameters
    ----------
    frames : pandas.DataFrame
        Per video frame: ``time`` (s, video clock) and the face columns (``change``,
        ``strength_<emotion>``, ``p_<class>``; a ``valid``/``quality`` column is not used).
    sample_times : numpy.ndarray
        ``(n_samples,)`` imaging times on the video clock, seconds.
    columns : sequence of str or None, optional
        Columns to resample (default :func:`face_columns`).
    window : float or None, optional
        See :func:`resample_causal`.
    source : str, optional
        Name of the table for messages.

    Returns
    -------
    pandas.DataFrame
        One row per imaging sample: ``sample`` (int64), ``time`` (s), then the columns
        (float64, NaN before the first video frame).
    """
    if "time" not in frames.columns:
        raise InputError(f"{source}: no 'time' column (video-clock seconds per frame)")
    cols = list(columns) if columns is not None else face_columns(frames)
    missing = [c for c in cols if c not in frames.columns]
    if missing:
        raise InputError(f"{source}: missing face column(s) {missing}")
    ft = frames["time"].to_numpy(np.float64)
    if np.any(np.diff(ft) <= 0):
        frames = frames.sort_values("time", kind="stable")
        ft = frames["time"].to_numpy(np.float64)
    st = np.asarray(sample_times, dtype=np.float64)
    vals = resample_causal(ft, frames[cols].to_numpy(np.float64), st, window=window)
    out = pd.DataFrame(vals, columns=cols)
    out.insert(0, "time", st)
    out.insert(0, "sample", np.arange(len(st), dtype=np.int64))
    return out


def trial_samples(trials: pd.DataFrame, sample_times: np.ndarray) -> pd.DataFrame:
    """The trial table with each onset mapped to an imaging sample.

    Parameters
    ----------
    trials : pandas.DataFrame
        ``trials.parquet`` rows (``onset`` in video-clock seconds).
    sample_times : numpy.ndarray
        ``(n_samples,)`` imaging times on the video clock.

    Returns
    -------
    pandas.DataFrame
        A copy with ``onset_sample`` (int64: the first imaging sample at or after the onset;
        -1 when the onset lies outside the imaging) and ``in_imaging`` (bool).
    """
    st = np.asarray(sample_times, dtype=np.float64)
    onset = trials["onset"].to_numpy(np.float64)
    idx = np.searchsorted(st, onset, side="left")
    inside = (onset >= st[0]) & (idx < len(st))
    out = trials.copy()
    out["onset_sample"] = np.where(inside, idx, -1).astype(np.int64)
    out["in_imaging"] = inside
    return out
