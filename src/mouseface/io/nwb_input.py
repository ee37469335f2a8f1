"""NWB in: a session's video timestamps, stimulus events and neural-data handles from an NWB file.

A session in ``mouseface.yaml`` may name an NWB file instead of (or beside) a video and an
events table. :func:`read_nwb_session` reads

- the video: an ``ImageSeries`` with an external file (path relative to the NWB file, as NWB
  recommends), its frame times (timestamps, or starting time + rate) and frame count;
- the stimulus events: an ``EventsTable`` (NWB core >= 2.10 / ndx-events 0.4) or a
  ``TimeIntervals`` table (``intervals/trials`` or another), as the BIDS-style events DataFrame
  of :func:`mouseface.io.events.read_events` (``onset`` in seconds on the video clock, i.e. from
  the first video frame);
- what neural data the file holds (ophys and optogenetic series, by path) so that
  ``mouseface.neural`` can read them; nothing of them is loaded here.

Every missing piece the session needs raises :class:`~mouseface.errors.InputError` naming the
file, the series and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.io import _nwb
from mouseface.io.events import EVENT_COLUMNS

__all__ = ["NWBSession", "read_nwb_session", "OPHYS_TYPES", "OPTO_TYPES"]

#: neurodata types reported as optical-physiology data
OPHYS_TYPES = ("TwoPhotonSeries", "OnePhotonSeries", "RoiResponseSeries", "PlaneSegmentation")
#: neurodata types reported as optogenetic stimulation
OPTO_TYPES = ("OptogeneticSeries", "OptogeneticStimulusSite")


@dataclass(frozen=True)
class NWBSession:
    """What a mouseface session takes from one NWB file.

    Attributes
    ----------
    path : Path
        The NWB file.
    video : Path or None
        The external video file of the ImageSeries, resolved against the NWB file's folder;
        None when the file has no video and ``require_video=False``.
    video_series : str or None
        Name of that ImageSeries.
    frame_times : ndarray of float64, shape (n_frames,), or None
        Frame times in seconds from the first frame (the video clock of the events); None when
        the series has neither timestamps nor a frame count.
    first_frame_time : float
        NWB time (s from ``session_start_time``) of the first video frame; 0.0 without video.
    rate : float or None
        Frame rate (Hz) when the series stores a rate instead of timestamps.
    events : DataFrame or None
        Events as :func:`mouseface.io.events.read_events` returns them (``onset`` on the video
        clock, ``duration``, ``trial_type``, ``intensity``, ``state``, ``trial``), sorted by
        onset; None when ``require_events=False`` and the file has none.
    events_table : str or None
        Path of the table they came from (e.g. ``"intervals/trials"``, ``"events/stim"``).
    ophys_series : tuple of str
        Paths of optical-physiology objects in the file (types :data:`OPHYS_TYPES`).
    opto_series : tuple of str
        Paths of optogenetic objects in the file (types :data:`OPTO_TYPES`).
    roi_traces : tuple of str
        Paths of the ``RoiResponseSeries`` among ``ophys_series``: the ROI traces
        :func:`mouseface.neural.readers.read_nwb` reads (raw imaging alone is not enough).
    """

    path: Path
    video: Path | None
    video_series: str | None
    frame_times: np.ndarray | None
    first_frame_time: float
    rate: float | None
    events: pd.DataFrame | None
    events_table: str | None
    ophys_series: tuple[str, ...]
    opto_series: tuple[str, ...]
    roi_traces: tuple[str, ...] = ()

    @property
    def has_ophys(self) -> bool:
        """True when the file holds optical-physiology data."""
        return bool(self.ophys_series)

    @property
    def has_opto(self) -> bool:
        """True when the file holds optogenetic stimulation series."""
        return bool(self.opto_series)

    @property
    def has_roi_traces(self) -> bool:
        """True when the file holds ROI traces (``RoiResponseSeries``) mouseface can read."""
        return bool(self.roi_traces)


def read_nwb_session(
    path: str | Path,
    *,
    video_series: str | None = None,
    events_table: str | None = None,
    trial_type_column: str = "trial_type",
    intensity_column: str = "intensity",
    state_column: str = "state",
    require_video: bool = True,
    require_events: bool = True,
    check_video_exists: bool = True,
) -> NWBSession:
    """Read a session's video timing, stimulus events and neural-data handles from NWB.

    Parameters
    ----------
    path : str or Path
        An NWB (HDF5) file.
    video_series : str or None
        Name of the ImageSeries with the face video; None takes the only ImageSeries with an
        external file (acquisition first, then anywhere in the file).
    events_table : str or None
        Name of the events table: an EventsTable in ``events/`` or a TimeIntervals table in
        ``intervals/`` (``"trials"`` for the trials table). None takes the only EventsTable,
        else the trials table, else the only other TimeIntervals table.
    trial_type_column, intensity_column, state_column : str
        Columns of that table holding the stimulus name (needed), its intensity and the
        animal's state (optional).
    require_video : bool
        Raise when there is no external-file ImageSeries (set False when the config gives the
        video beside the NWB file).
    require_events : bool
        Raise when there is no events table (set False when the config gives an events file).
    check_video_exists : bool
        Raise when the external video file does not exist.

    Returns
    -------
    NWBSession

    Raises
    ------
    InputError
        File missing or not NWB; no (or an ambiguous) video series or events table; the
        stimulus-name column missing; an event before the first video frame.
    """
    pynwb = _nwb.require_pynwb()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: NWB file not found; check the 'nwb' path in mouseface.yaml")
    try:
        io = pynwb.NWBHDF5IO(str(path), mode="r")
    except Exception as exc:  # h5py/hdmf raise several types for a non-NWB file
        raise InputError(
            f"{path}: cannot be opened as an NWB (HDF5) file ({exc}); give an .nwb file written "
            "by pynwb or MatNWB"
        ) from exc
    with io:
        try:
            nwbfile = io.read()
        except Exception as exc:
            raise InputError(f"{path}: not a readable NWB file ({exc})") from exc
        image = _find_video(nwbfile, path, video_series, require_video)
        video, times, rate, t0 = (None, None, None, 0.0)
        if image is not None:
            video, times, rate, t0 = _video_timing(image, path, check_video_exists)
        table_path, events = _find_events(
            nwbfile,
            path,
            events_table,
            (trial_type_column, intensity_column, state_column),
            require_events,
        )
        if events is not None:
            events = _to_video_clock(events, t0, path, table_path)
        ophys, opto, traces = _neural_paths(io, nwbfile)
    return NWBSession(
        path=path,
        video=video,
        video_series=None if image is None else image.name,
        frame_times=times,
        first_frame_time=t0,
        rate=rate,
        events=events,
        events_table=table_path,
        ophys_series=ophys,
        opto_series=opto,
        roi_traces=traces,
    )


def _object_path(io: Any, obj: Any) -> str:
    """HDF5 path of a read object, e.g. ``processing/ophys/Fluorescence/RoiResponseSeries``."""
    builder = io.manager.get_builder(obj)
    if builder is not None:
        return builder.path.removeprefix("root/")
    return obj.name


def _find_video(nwbfile: Any, path: Path, name: str | None, required: bool) -> Any:
    from pynwb.image import ImageSeries

    series = [
        o
        for o in nwbfile.objects.values()
        if isinstance(o, ImageSeries) and o.external_file is not None
    ]
    if name is not None:
        named = [o for o in nwbfile.objects.values() if isinstance(o, ImageSeries)]
        hit = [o for o in named if o.name == name]
        if not hit:
            have = ", ".join(sorted(o.name for o in named)) or "none"
            raise InputError(
                f"{path}: no ImageSeries named '{name}' (ImageSeries in the file: {have}); "
                "name one of them as the video series"
            )
        if hit[0].external_file is None:
            raise InputError(
                f"{path}: ImageSeries '{name}' stores its frames inside the file; mouseface "
                "reads the video from an external file: write the video to an .mp4/.avi and "
                "give it as external_file (format='external')"
            )
        return hit[0]
    if not series:
        if not required:
            return None
        raise InputError(
            f"{path}: no ImageSeries with an external video file; add one to acquisition "
            "(pynwb.image.ImageSeries(name='face_video', external_file=['video.mp4'], "
            "format='external', starting_frame=[0], timestamps=...)) or give 'video' in "
            "mouseface.yaml beside 'nwb'"
        )
    if len(series) > 1:
        acq = [o for o in series if o.name in nwbfile.acquisition]
        if len(acq) == 1:
            return acq[0]
        names = ", ".join(sorted(o.name for o in series))
        raise InputError(
            f"{path}: several ImageSeries with external files ({names}); say which one shows "
            "the face (video_series / 'nwb_video' in mouseface.yaml)"
        )
    return series[0]


def _video_timing(
    image: Any, path: Path, check_exists: bool
) -> tuple[Path, np.ndarray | None, float | None, float]:
    files = list(image.external_file[:])
    if len(files) != 1:
        raise InputError(
            f"{path}: ImageSeries '{image.name}' lists {len(files)} external files; mouseface "
            "reads one video per session: join the parts into one file or split the session"
        )
    raw = files[0].decode() if isinstance(files[0], bytes) else str(files[0])
    video = Path(raw)
    if not video.is_absolute():
        video = (path.parent / video).resolve()
    if check_exists and not video.is_file():
        raise InputError(
            f"{path}: the video of ImageSeries '{image.name}' ({raw}) is not at {video}; keep the "
            "video beside the NWB file as the relative path says, or fix external_file"
        )
    if image.timestamps is not None:
        stamps = np.asarray(image.timestamps[:], dtype=np.float64)
        if stamps.size == 0:
            raise InputError(f"{path}: ImageSeries '{image.name}' has no timestamps")
        return video, stamps - stamps[0], None, float(stamps[0])
    rate = float(image.rate)
    t0 = float(image.starting_time or 0.0)
    n = getattr(image, "num_samples", None)
    times = None if not n else np.arange(int(n), dtype=np.float64) / rate
    return video, times, rate, t0


def _find_events(
    nwbfile: Any,
    path: Path,
    name: str | None,
    columns: tuple[str, str, str],
    required: bool,
) -> tuple[str | None, pd.DataFrame | None]:
    events = dict(getattr(nwbfile, "events", None) or {})
    intervals = dict(nwbfile.intervals or {})
    if name is not None:
        if name in events:
            return f"events/{name}", _table_events(events[name], path, f"events/{name}", columns)
        if name in intervals:
            where = f"intervals/{name}"
            return where, _table_events(intervals[name], path, where, columns)
        have = ", ".join([f"events/{k}" for k in events] + [f"intervals/{k}" for k in intervals])
        raise InputError(
            f"{path}: no events table '{name}' (tables: {have or 'none'}); name one of them"
        )
    if len(events) == 1:
        ((key, table),) = events.items()
        return f"events/{key}", _table_events(table, path, f"events/{key}", columns)
    if len(events) > 1:
        names = ", ".join(sorted(events))
        raise InputError(
            f"{path}: several EventsTables ({names}); say which holds the stimuli "
            "(events_table / 'nwb_events' in mouseface.yaml)"
        )
    if "trials" in intervals:
        return "intervals/trials", _table_events(
            intervals["trials"], path, "intervals/trials", columns
        )
    others = {k: v for k, v in intervals.items() if k not in ("epochs", "invalid_times")}
    if len(others) == 1:
        ((key, table),) = others.items()
        return f"intervals/{key}", _table_events(table, path, f"intervals/{key}", columns)
    if len(others) > 1:
        names = ", ".join(sorted(others))
        raise InputError(
            f"{path}: several TimeIntervals tables ({names}); say which holds the stimuli "
            "(events_table / 'nwb_events' in mouseface.yaml)"
        )
    if not required:
        return None, None
    raise InputError(
        f"{path}: no stimulus events (no EventsTable in events/, no trials or other "
        "TimeIntervals table); add them to the NWB file (nwbfile.add_trial(start_time=..., "
        "stop_time=..., trial_type=...)) or give 'events' (a TSV) in mouseface.yaml"
    )


def _table_events(
    table: Any, path: Path, where: str, columns: tuple[str, str, str]
) -> pd.DataFrame:
    type_col, intensity_col, state_col = columns
    df = table.to_dataframe(index=False) if _accepts_index(table) else table.to_dataframe()
    df = df.reset_index(drop=True)
    if "timestamp" in df.columns:  # EventsTable
        onset = df["timestamp"].to_numpy(dtype=np.float64)
        duration = (
            df["duration"].to_numpy(dtype=np.float64)
            if "duration" in df.columns
            else np.zeros(len(df))
        )
    elif "start_time" in df.columns:  # TimeIntervals
        onset = df["start_time"].to_numpy(dtype=np.float64)
        duration = df["stop_time"].to_numpy(dtype=np.float64) - onset
    else:
        raise InputError(
            f"{path}: table {where} has neither 'timestamp' nor 'start_time'; store stimuli "
            "as an EventsTable or a TimeIntervals table"
        )
    if type_col not in df.columns:
        have = ", ".join(str(c) for c in df.columns)
        raise InputError(
            f"{path}: table {where} has no column '{type_col}' with the stimulus names "
            f"(columns: {have}); name the column that holds them (trial_type_column / "
            "'nwb_trial_type' in mouseface.yaml)"
        )
    if len(df) == 0:
        raise InputError(f"{path}: table {where} has no rows; add one row per stimulus")
    out = pd.DataFrame(
        {
            "onset": onset,
            "duration": np.nan_to_num(duration, nan=0.0),
            "trial_type": [str(v).strip() for v in df[type_col]],
        }
    )
    if (out["trial_type"] == "").any():
        i = int(np.flatnonzero((out["trial_type"] == "").to_numpy())[0])
        raise InputError(
            f"{path}: table {where}, row {i}: '{type_col}' is empty; name the stimulus"
        )
    out["intensity"] = (
        pd.to_numeric(df[intensity_col], errors="coerce").astype(float).to_numpy()
        if intensity_col in df.columns
        else np.nan
    )
    if state_col in df.columns:
        state = [
            None if _nwb.is_missing(v) or v == _nwb.MISSING_TEXT else str(v) for v in df[state_col]
        ]
        out["state"] = pd.Series(state, dtype=object)
    else:
        out["state"] = None
    if "trial" in df.columns:
        trial = pd.to_numeric(df["trial"], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(trial) | (trial != np.round(trial))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{path}: table {where}, row {i}: 'trial' is {trial[i]:g}, not an "
                "integer id; write integer trial ids or drop the column"
            )
        out["trial"] = trial.astype(np.int64)
    else:
        out["trial"] = np.arange(1, len(out) + 1)
    return out[list(EVENT_COLUMNS)]


def _accepts_index(table: Any) -> bool:
    import inspect

    return "index" in inspect.signature(table.to_dataframe).parameters


def _to_video_clock(events: pd.DataFrame, t0: float, path: Path, where: str | None) -> pd.DataFrame:
    events = events.copy()
    events["onset"] = events["onset"] - t0
    early = events["onset"] < -1e-9
    if early.any():
        i = int(np.flatnonzero(early.to_numpy())[0])
        raise InputError(
            f"{path}: {where}, trial {events['trial'].iloc[i]} starts "
            f"{-events['onset'].iloc[i]:.3f} s before the first video frame; events and video "
            "must share the NWB clock (check the ImageSeries timestamps / starting_time)"
        )
    events["onset"] = events["onset"].clip(lower=0.0)
    return events.sort_values("onset", kind="stable").reset_index(drop=True)


def _neural_paths(
    io: Any, nwbfile: Any
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    ophys, opto, traces = [], [], []
    for obj in nwbfile.objects.values():
        kind = getattr(obj, "neurodata_type", "")
        if kind in OPHYS_TYPES:
            ophys.append(_object_path(io, obj))
            if kind == "RoiResponseSeries":
                traces.append(ophys[-1])
        elif kind in OPTO_TYPES:
            opto.append(_object_path(io, obj))
    return tuple(sorted(ophys)), tuple(sorted(opto)), tuple(sorted(traces))
