"""Imaging times on the video clock: own timestamps, a sync-pulse table, or rate + offset.

Two clocks that drift are related by a straight line, ``video = offset + slope * neural``;
:func:`fit_clock` fits it to sync pulses (the same TTL edges time-stamped by both systems) and
reports the residual. :func:`read_sync_table` checks that every row holds the same pulse on both
clocks (a missing or extra pulse on one side shows up as pulse intervals that disagree).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import linregress

from mouseface.errors import InputError
from mouseface.neural.recording import NeuralRecording

__all__ = [
    "ClockFit",
    "fit_clock",
    "read_sync_table",
    "check_pulses",
    "to_video_clock",
    "check_overlap",
    "SYNC_COLUMNS",
]

#: Columns of a sync-pulse table: one row per pulse, its time on each clock in seconds.
SYNC_COLUMNS = ("neural_time", "video_time")


@dataclass(frozen=True)
class ClockFit:
    """Linear map from the neural clock to the video clock: ``video = offset + slope * t``.

    Attributes
    ----------
    offset : float
        Video-clock time of neural time 0, seconds.
    slope : float
        Video seconds per neural second (1 + drift; drift ~1e-4 for two crystal clocks).
    residual_max : float
        Largest absolute residual of the sync pulses around the line, seconds (0 without
        pulses).
    residual_rms : float
        Root-mean-square residual, seconds.
    n_pulses : int
        Number of pulses the line was fitted to (0 for timestamps or rate + offset).
    method : str
        ``"timestamps"``, ``"sync"``, ``"rate"`` or ``"nwb"`` (own timestamps minus the NWB
        time of the first video frame, :func:`mouseface.neural.prepare.prepare_recording`).
    """

    offset: float
    slope: float
    residual_max: float = 0.0
    residual_rms: float = 0.0
    n_pulses: int = 0
    method: str = "timestamps"

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Video-clock times of neural-clock times ``t`` (seconds, float64)."""
        return self.offset + self.slope * np.asarray(t, dtype=np.float64)


def check_pulses(
    neural: np.ndarray, video: np.ndarray, *, source: str = "sync table", tolerance: float = 0.1
) -> None:
    """Raise InputError when the two clocks' pulse intervals disagree (missing/extra pulse).

    Parameters
    ----------
    neural, video : numpy.ndarray
        ``(n_pulses,)`` pulse times on each clock, seconds, row ``i`` = the same pulse.
    source : str, optional
        File name for the message.
    tolerance : float, optional
        Largest allowed disagreement of an interval, as a fraction of the median interval
        (default 0.1), after scaling by the median ratio of the intervals (the clocks' rate
        ratio).
    """
    neural = np.asarray(neural, dtype=np.float64)
    video = np.asarray(video, dtype=np.float64)
    dn, dv = np.diff(neural), np.diff(video)
    for name, d in (("neural_time", dn), ("video_time", dv)):
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0)) + 1
            raise InputError(
                f"{source}: {name} is not increasing at pulse row {i + 1} (data row {i + 1} of "
                f"{len(d) + 1}); sort the table by time and remove duplicate pulses"
            )
    ratio = float(np.median(dv / dn))
    bad = np.abs(dv - ratio * dn) > tolerance * float(np.median(dv))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{source}: pulse rows {i + 1} -> {i + 2}: {dn[i]:.4g} s apart on the neural clock but "
            f"{dv[i]:.4g} s on the video clock, so from row {i + 2} on a pulse is missing on one "
            "clock or extra on the other; delete the unmatched pulse (or add the missing one) so "
            "that every row holds the same pulse on both clocks"
        )


def read_sync_table(
    path: str | os.PathLike[str], *, tolerance: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Read and check a sync-pulse table (CSV/TSV/parquet, columns ``neural_time``,
    ``video_time``, seconds, one row per pulse).

    Returns
    -------
    neural, video : numpy.ndarray
        ``(n_pulses,)`` float64 pulse times on each clock.

    Raises
    ------
    mouseface.errors.InputError
        Missing columns, non-numbers, fewer than 2 pulses, unequal pulse counts (a column ends
        early) or intervals that disagree (:func:`check_pulses`).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: sync table not found; check `neural.sync`")
    if p.suffix.lower() == ".parquet":
        df = pd.read_parquet(p)
    else:
        df = pd.read_csv(p, sep="\t" if p.suffix.lower() in (".tsv", ".txt") else ",")
    missing = [c for c in SYNC_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"{p}: missing column(s) {missing} (has {list(df.columns)}); a sync table has one row "
            "per pulse with its time on each clock: neural_time, video_time (s)"
        )
    cols = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(np.float64) for c in SYNC_COLUMNS}
    n_ok = {c: int(np.isfinite(v).sum()) for c, v in cols.items()}
    if n_ok["neural_time"] != n_ok["video_time"]:
        raise InputError(
            f"{p}: {n_ok['neural_time']} pulses on the neural clock but {n_ok['video_time']} on "
            "the video clock: pulses are missing on one clock; keep only pulses seen by both, "
            "one row each"
        )
    for c, v in cols.items():
        if not np.all(np.isfinite(v)):
            i = int(np.argmax(~np.isfinite(v)))
            raise InputError(
                f"{p}: {c} is empty or not a number at data row {i + 1}; every row needs both "
                "times (drop pulses seen by one clock only)"
            )
    if len(df) < 2:
        raise InputError(f"{p}: fewer than 2 sync pulses; at least 2 are needed to fit a clock")
    check_pulses(cols["neural_time"], cols["video_time"], source=str(p), tolerance=tolerance)
    return cols["neural_time"], cols["video_time"]


def fit_clock(neural: np.ndarray, video: np.ndarray) -> ClockFit:
    """Least-squares line ``video = offset + slope * neural`` through the sync pulses.

    Parameters
    ----------
    neural, video : numpy.ndarray
        ``(n_pulses,)`` pulse times on the two clocks, seconds (checked pairs,
        e.g. from :func:`read_sync_table`).

    Returns
    -------
    ClockFit
        With the residuals' maximum and RMS in seconds (``scipy.stats.linregress``).
    """
    neural = np.asarray(neural, dtype=np.float64)
    video = np.asarray(video, dtype=np.float64)
    if neural.shape != video.shape or neural.size < 2:
        raise InputError("fit_clock: need >= 2 pulses, the same number on both clocks")
    t0 = float(neural.mean())  # centre for numerical precision
    res = linregress(neural - t0, video)
    slope = float(res.slope)
    offset = float(res.intercept) - slope * t0
    resid = video - (offset + slope * neural)
    return ClockFit(
        offset=offset,
        slope=slope,
        residual_max=float(np.max(np.abs(resid))),
        residual_rms=float(np.sqrt(np.mean(resid**2))),
        n_pulses=int(neural.size),
        method="sync",
    )


def to_video_clock(
    rec: NeuralRecording,
    *,
    sync: str | os.PathLike[str] | tuple[np.ndarray, np.ndarray] | None = None,
    rate: float | None = None,
    offset: float | None = None,
) -> tuple[NeuralRecording, ClockFit]:
    """The recording with its times on the video clock, and the clock map used.

    Exactly one way is used: ``sync`` (a sync-table path or ``(neural, video)`` pulse
    arrays: linear fit, :func:`fit_clock`); ``rate`` and/or ``offset`` (sample ``i`` at
    ``offset + i / rate`` video seconds; ``rate`` defaults to the recording's, ``offset`` to
    0); or neither (the file's own timestamps are already on the video clock).

    Returns
    -------
    NeuralRecording
        Same traces, ``times`` in video-clock seconds.
    ClockFit
        The map (``method`` says which way; residuals for ``sync``).
    """
    if sync is not None and (rate is not None or offset is not None):
        raise InputError(
            f"{rec.source}: give either a sync table or rate/offset for the imaging clock, not both"
        )
    if sync is not None:
        if isinstance(sync, tuple):
            neural, video = (np.asarray(a, dtype=np.float64) for a in sync)
            check_pulses(neural, video, source=f"sync pulses of {rec.source}")
        else:
            neural, video = read_sync_table(sync)
        fit = fit_clock(neural, video)
        return rec.with_times(fit(rec.times)), fit
    if rate is not None or offset is not None:
        r = float(rate) if rate is not None else rec.rate
        if not r > 0:
            raise InputError(f"{rec.source}: imaging rate must be > 0 Hz, got {rate!r}")
        off = float(offset or 0.0)
        fit = ClockFit(offset=off, slope=1.0, method="rate")
        return rec.with_times(off + np.arange(rec.n_times) / r), fit
    return rec, ClockFit(offset=0.0, slope=1.0, method="timestamps")


def check_overlap(
    imaging_times: np.ndarray,
    video_times: np.ndarray,
    *,
    source: str = "neural recording",
    min_overlap: float = 0.5,
) -> float:
    """Raise InputError unless the imaging and the video overlap in time.

    Parameters
    ----------
    imaging_times, video_times : numpy.ndarray
        Sample times of the imaging and the video frames, both on the video clock, seconds.
    source : str, optional
        File name for the message.
    min_overlap : float, optional
        Smallest accepted overlap as a fraction of the shorter recording (default 0.5).

    Returns
    -------
    float
        The overlap in seconds.
    """
    a0, a1 = float(np.min(imaging_times)), float(np.max(imaging_times))
    b0, b1 = float(np.min(video_times)), float(np.max(video_times))
    overlap = max(0.0, min(a1, b1) - max(a0, b0))
    shorter = min(a1 - a0, b1 - b0)
    if overlap < min_overlap * shorter:
        raise InputError(
            f"{source}: imaging covers {a0:.2f}-{a1:.2f} s and the video {b0:.2f}-{b1:.2f} s on "
            f"the video clock (overlap {overlap:.2f} s, less than {min_overlap:.0%} of the "
            "shorter); the clocks are not aligned: give a sync table (neural: sync: file) or "
            "the imaging start on the video clock (neural: offset: <s>)"
        )
    return overlap
