"""One call from a session's ``neural:`` config to dF/F on the video clock: read, dF/F, clock,
overlap check."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from mouseface.neural.clocks import ClockFit, check_overlap, to_video_clock
from mouseface.neural.dff import recording_dff
from mouseface.neural.readers import read_neural
from mouseface.neural.recording import NeuralRecording

__all__ = ["PreparedRecording", "prepare_recording"]


@dataclass(frozen=True, eq=False)
class PreparedRecording:
    """A recording ready for the neuron statistics.

    Attributes
    ----------
    recording : NeuralRecording
        dF/F, ``times`` on the video clock.
    clock : ClockFit
        How the times were mapped (method, offset, slope, residuals).
    computed_dff : bool
        True when dF/F was computed here from raw F (False: the file held dF/F).
    overlap : float
        Seconds during which imaging and video overlap (NaN without ``video_times``).
    """

    recording: NeuralRecording
    clock: ClockFit
    computed_dff: bool
    overlap: float

    def provenance(self) -> dict[str, Any]:
        """Plain-type summary for ``provenance.json`` (``overlap_s`` None when unchecked)."""
        rec, clk = self.recording, self.clock
        return {
            "source": str(rec.source),
            "n_neurons": rec.n_neurons,
            "n_samples": rec.n_times,
            "rate_hz": rec.rate,
            "planes": sorted(int(p) for p in np.unique(rec.plane)),
            "dff_computed": self.computed_dff,
            "clock": {
                "method": clk.method,
                "offset_s": clk.offset,
                "slope": clk.slope,
                "residual_max_s": clk.residual_max,
                "residual_rms_s": clk.residual_rms,
                "n_pulses": clk.n_pulses,
            },
            "overlap_s": self.overlap if np.isfinite(self.overlap) else None,
        }


def prepare_recording(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    sync: str | os.PathLike[str] | None = None,
    rate: float | None = None,
    offset: float | None = None,
    video_times: np.ndarray | None = None,
    neuropil: float = 0.7,
    baseline_window: float = 300.0,
    baseline_percentile: float = 8.0,
    reader_options: dict[str, Any] | None = None,
    time_origin: float | None = None,
) -> PreparedRecording:
    """Read a neural recording and bring it onto the video clock as dF/F.

    Parameters
    ----------
    path : str or os.PathLike
        suite2p folder, NWB file or table.
    format : str or None, optional
        Reader name (:data:`mouseface.neural.readers.READERS`); default from the path.
    sync, rate, offset
        The clock (:func:`mouseface.neural.clocks.to_video_clock`): a sync-pulse table, or
        rate and/or offset, or neither (the file's timestamps are on the video clock).
    video_times : numpy.ndarray or None, optional
        ``(n_frames,)`` video frame times; when given, imaging and video must overlap
        (:func:`mouseface.neural.clocks.check_overlap`).
    neuropil : float, optional
        Neuropil coefficient r for raw F (default 0.7).
    baseline_window : float, optional
        Running-percentile window, seconds (default 300).
    baseline_percentile : float, optional
        Baseline percentile (default 8).
    reader_options : dict or None, optional
        Passed to the reader (``fs``, ``cells_only``, ``series``, ``kind``, ...).
    time_origin : float or None, optional
        Seconds subtracted from the file's own timestamps to put them on the video clock, for
        a recording whose times share the video's clock with another origin (an NWB file whose
        ImageSeries starts at ``time_origin``); not with ``sync``, ``rate`` or ``offset``. The
        clock map is then ``method="nwb"``, ``offset=-time_origin``.

    Returns
    -------
    PreparedRecording
    """
    rec = read_neural(path, format=format, **(reader_options or {}))
    computed = rec.kind == "F"
    rec = recording_dff(rec, r=neuropil, window=baseline_window, percentile=baseline_percentile)
    if time_origin is None:
        rec, clock = to_video_clock(rec, sync=sync, rate=rate, offset=offset)
    else:
        if sync is not None or rate is not None or offset is not None:
            raise ValueError("time_origin cannot be combined with sync, rate or offset")
        rec = rec.with_times(np.asarray(rec.times, dtype=np.float64) - float(time_origin))
        clock = ClockFit(offset=-float(time_origin), slope=1.0, method="nwb")
    overlap = float("nan")
    if video_times is not None:
        overlap = check_overlap(rec.times, np.asarray(video_times), source=str(rec.source))
    return PreparedRecording(rec, clock, computed, overlap)
