"""NWB out: one NWB file per session of a mouseface output folder.

What goes where (all times in seconds on the video clock: ``session_start_time`` is the time of
the session's first video frame, so NWB times equal the ``time`` / ``onset`` of the folder):

- ``processing/behavior``: every per-frame column of ``sessions/<id>/frames.parquet`` (``change``,
  ``motion``, ``strength_<emotion>``, decoder ``p_<class>``, quality flags as 0/1) as a
  ``TimeSeries`` with the frame times (a rate when the frames are evenly spaced, explicit
  timestamps otherwise), the per-frame decoder label as integer codes (``predicted``, the class
  names in its description), the stabilisation shift (``face_shift``, pixels), the face ROI
  (``face_roi`` table) and the session's mean face (``face_images/mean_face``);
- ``acquisition/face_video``: an ``ImageSeries`` that links the source video (external file,
  path relative to the NWB file) with the frame times, so the file can be read back as an input
  with :func:`mouseface.io.nwb_input.read_nwb_session`;
- ``intervals/trials``: ``trials.parquet`` rows of the session, every column as it is
  (``onset`` and ``duration`` of the stimulus included); ``start_time`` / ``stop_time`` span the
  trial's analysis windows (baseline start to the later of response end and stimulus end, from
  the run's ``windows``; NWB needs stop > start, which a 0-s stimulus would not give);
- ``events/stimulus_events``: the stimuli as an ``EventsTable`` (the ndx-events ``EventsTable``,
  part of the NWB core schema since 2.10: pynwb >= 4 writes it without the extension);
- ``analysis/neurons`` and ``analysis/opto``: the session's rows of ``neurons.parquet`` /
  ``opto.parquet`` when they exist;
- metadata: subject (``subject_id`` = animal, species *Mus musculus*), ``source_script`` (package
  and version), ``notes`` (provenance JSON: version, parameters, config, session summary).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.io import _nwb
from mouseface.io.outputs import atomic_path

__all__ = ["NWBExportOptions", "export_session_nwb", "export_nwb", "frame_series_meta"]

_KEYWORDS = ["facial expression", "emotion", "mouse", "histogram of oriented gradients"]

#: unit and description of the per-frame traces, by column name or prefix
_TRACE_META: dict[str, tuple[str, str]] = {
    "change": (
        "n.a.",
        "1 - Pearson r between the frame's HOG and the session's neutral prototype (baseline "
        "frames); dimensionless",
    ),
    "motion": ("n.a.", "motion energy of the face crop between consecutive frames (a.u.)"),
    "dark": ("n.a.", "quality flag, 1 = frame too dark"),
    "saturated": ("n.a.", "quality flag, 1 = frame saturated"),
    "motion_outlier": ("n.a.", "quality flag, 1 = unusual motion"),
    "good": ("n.a.", "quality flag, 1 = frame usable (no other flag set)"),
}


def frame_series_meta(column: str) -> tuple[str, str]:
    """Unit and description of the NWB TimeSeries made from a ``frames.parquet`` column."""
    if column in _TRACE_META:
        return _TRACE_META[column]
    if column.startswith("strength_"):
        emotion = column.removeprefix("strength_")
        return (
            "n.a.",
            f"expression strength of {emotion}: Pearson r between the frame's HOG and the "
            f"animal's {emotion} prototype; dimensionless",
        )
    if column.startswith("p_"):
        return ("n.a.", f"decoder probability of class {column.removeprefix('p_')} (0-1)")
    return ("n.a.", f"per-frame value '{column}' from frames.parquet")


@dataclass(frozen=True)
class NWBExportOptions:
    """Metadata of exported NWB files that the output folder does not hold.

    Attributes
    ----------
    session_start_time : datetime or None
        Time of the first video frame (timezone-aware; a naive value is taken as UTC). None:
        the session's ``start_time`` in provenance.json if there is one, else the run's
        ``created`` time (then the file's notes say so).
    subject_age : str
        ISO 8601 duration (e.g. ``"P90D"``) or range (``"P60D/P90D"``). The default
        ``"P0D/"`` (zero days or older) is the open range NWB uses for an unknown age: DANDI
        and nwbinspector need an age, so give the real one when you know it.
    subject_sex : str
        ``"M"``, ``"F"``, ``"U"`` (unknown, default) or ``"O"``.
    species : str
        Latin binomial (default ``"Mus musculus"``).
    strain, genotype : str or None
        Written to the subject when given.
    experimenter : sequence of str or None
        ``"Last, First"`` names.
    lab, institution : str or None
        Written when given.
    link_video : bool
        Write ``acquisition/face_video`` (ImageSeries with the video as external file).
    """

    session_start_time: datetime | None = None
    subject_age: str = "P0D/"
    subject_sex: str = "U"
    species: str = "Mus musculus"
    strain: str | None = None
    genotype: str | None = None
    experimenter: Sequence[str] | None = None
    lab: str | None = None
    institution: str | None = None
    link_video: bool = True


def export_nwb(
    out_dir: str | Path,
    dest: str | Path | None = None,
    *,
    sessions: Sequence[str] | None = None,
    options: NWBExportOptions | None = None,
) -> list[Path]:
    """Export sessions of an output folder as NWB files ``<dest>/<session>.nwb``.

    Parameters
    ----------
    out_dir : str or Path
        A ``mouseface run`` / ``analyze`` output folder.
    dest : str or Path or None
        Folder for the NWB files (created); default ``<out_dir>/nwb``.
    sessions : sequence of str or None
        Session ids to export; None exports every folder under ``sessions/``.
    options : NWBExportOptions or None
        Metadata (start time, subject, experimenter ...); defaults as in NWBExportOptions.

    Returns
    -------
    list of Path
        The written files, in session order.

    Raises
    ------
    InputError
        The folder has no sessions, or a named session is not in it.
    """
    out_dir = Path(out_dir)
    dest = out_dir / "nwb" if dest is None else Path(dest)
    ids = list(sessions) if sessions is not None else _session_ids(out_dir)
    if not ids:
        raise InputError(
            f"{out_dir}: no sessions/<id>/frames.parquet found; give the output folder of "
            "'mouseface run' or 'mouseface analyze'"
        )
    return [export_session_nwb(out_dir, s, dest / f"{s}.nwb", options=options) for s in ids]


def _session_ids(out_dir: Path) -> list[str]:
    root = out_dir / "sessions"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "frames.parquet").is_file())


def export_session_nwb(
    out_dir: str | Path,
    session_id: str,
    path: str | Path,
    *,
    options: NWBExportOptions | None = None,
    identifier: str | None = None,
) -> Path:
    """Write one session of an output folder as an NWB file, atomically.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (``sessions/<id>/frames.parquet`` needed; ``features.zarr``,
        ``trials.parquet``, ``neurons.parquet``, ``opto.parquet``, ``provenance.json`` used when
        present).
    session_id : str
        The session to export.
    path : str or Path
        Destination ``.nwb`` file; its folder is created; an existing file is replaced only
        once the new one is complete.
    options : NWBExportOptions or None
        Metadata not in the folder (start time, subject age/sex, experimenter...).
    identifier : str or None
        NWB ``identifier``; default a new UUID4 (each export is a new file).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        The session is not in the folder, its frame table is empty or has no ``time`` column,
        or an option is invalid.
    """
    pynwb = _nwb.require_pynwb()
    from pynwb.file import Subject

    opts = options or NWBExportOptions()
    out_dir = Path(out_dir)
    path = Path(path)
    if path.suffix.lower() != ".nwb":
        raise InputError(f"{path}: an NWB file name must end in .nwb; e.g. {path.stem}.nwb")
    session_dir = out_dir / "sessions" / session_id
    frames = _nwb.read_table(session_dir / "frames.parquet")
    if frames is None:
        known = ", ".join(_session_ids(out_dir)) or "none"
        raise InputError(
            f"{session_dir / 'frames.parquet'}: not found, so session '{session_id}' cannot be "
            f"exported; sessions in {out_dir}: {known}"
        )
    if "time" not in frames.columns or frames.empty:
        raise InputError(
            f"{session_dir / 'frames.parquet'}: no frames or no 'time' column; rerun "
            "'mouseface run' to rewrite the session"
        )
    prov = _nwb.read_provenance(out_dir)
    trials = _nwb.read_table(out_dir / "trials.parquet", session=session_id)
    features = _read_features(session_dir / "features.zarr")
    animal = _animal(session_id, prov, trials, features)
    start, start_note = _start_time(opts, prov, session_id)
    if opts.subject_sex not in ("M", "F", "U", "O"):
        raise InputError(f"subject_sex {opts.subject_sex!r}: use one of M, F, U (unknown), O")

    nwbfile = pynwb.NWBFile(
        session_description=(
            f"mouseface analysis of session {session_id} (animal {animal}): per-frame facial "
            "expression traces, trial responses and decoder outputs from a side-view face video"
        ),
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=start,
        session_id=session_id,
        experimenter=list(opts.experimenter) if opts.experimenter else None,
        lab=opts.lab,
        institution=opts.institution,
        experiment_description=(
            "Facial expressions of emotion states in head-fixed mice (method of Dolensek et al., "
            "Science 2020): HOG features of the face crop compared with emotion prototypes"
        ),
        keywords=_KEYWORDS,
        source_script=f"mouseface {prov.get('version', _version())}",
        source_script_file_name="mouseface",
        notes=_notes(prov, session_id, start_note),
        subject=Subject(
            subject_id=str(animal),
            species=opts.species,
            sex=opts.subject_sex,
            age=opts.subject_age,
            strain=opts.strain,
            genotype=opts.genotype,
            description=f"mouse {animal}",
        ),
    )
    times = frames["time"].to_numpy(dtype=np.float64)
    behavior = nwbfile.create_processing_module(
        name=_nwb.BEHAVIOR_MODULE,
        description="per-frame facial expression traces computed by mouseface from the video",
    )
    _add_frame_series(behavior, frames, times, pynwb)
    if features is not None:
        _add_face(behavior, features, times, _video_path(prov, session_id), pynwb)
    if opts.link_video:
        _add_video(nwbfile, prov, session_id, times, path, pynwb)
    if trials is not None and not trials.empty:
        _add_trials(nwbfile, trials, _windows(prov))
        _add_events(nwbfile, trials)
    for name, what in (("neurons", "neuron"), ("opto", "optogenetic-stimulation")):
        table = _nwb.read_table(out_dir / f"{name}.parquet", session=session_id)
        if table is not None and not table.empty:
            nwbfile.add_analysis(_dynamic_table(name, table, f"mouseface {what} results"))

    with atomic_path(path, suffix=".nwb") as tmp, pynwb.NWBHDF5IO(str(tmp), mode="w") as io:
        io.write(nwbfile)
    return path


def _version() -> str:
    from mouseface import __version__

    return __version__


def _read_features(path: Path) -> Any:
    if not path.exists():
        return None
    import xarray as xr

    try:
        return xr.open_zarr(path)
    except Exception as exc:  # zarr raises several types for a broken store
        raise InputError(
            f"{path}: cannot be opened as a zarr store ({exc}); rerun 'mouseface run' to "
            "rewrite the session"
        ) from exc


def _animal(session_id: str, prov: dict, trials: pd.DataFrame | None, features: Any) -> str:
    info = prov.get("sessions", {}).get(session_id, {})
    if info.get("animal"):
        return str(info["animal"])
    if features is not None and features.attrs.get("animal"):
        return str(features.attrs["animal"])
    if trials is not None and "animal" in trials.columns and len(trials):
        return str(trials["animal"].iloc[0])
    return session_id


def _start_time(opts: NWBExportOptions, prov: dict, session_id: str) -> tuple[datetime, str]:
    if opts.session_start_time is not None:
        t = opts.session_start_time
        return (t if t.tzinfo else t.replace(tzinfo=UTC)), "given by the user"
    info = prov.get("sessions", {}).get(session_id, {})
    if info.get("start_time"):
        return _parse_time(info["start_time"]), "from the session in provenance.json"
    if prov.get("created"):
        return (
            _parse_time(prov["created"]),
            "not known: set to the time the analysis ran (provenance 'created'); pass the "
            "recording's start time to the exporter",
        )
    return (
        datetime.now(UTC).replace(microsecond=0),
        "not known: set to the export time; pass the recording's start time to the exporter",
    )


def _parse_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(
            f"provenance.json: start time {value!r} is not ISO 8601; pass session_start_time"
        ) from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _notes(prov: dict, session_id: str, start_note: str) -> str:
    keep = {
        "package": prov.get("package", "mouseface"),
        "version": prov.get("version", _version()),
        "created": prov.get("created"),
        "session_start_time": start_note,
        "parameters": prov.get("parameters", {}),
        "session": prov.get("sessions", {}).get(session_id, {}),
        "config": prov.get("config", {}),
        "inputs": prov.get("inputs", {}),
        "warnings": prov.get("warnings", []),
    }
    return "mouseface provenance (JSON): " + json.dumps(keep, default=str, sort_keys=True)


def _time_kwargs(times: np.ndarray, first: Any) -> dict[str, Any]:
    """TimeSeries timing arguments: share the first series' timing, else a rate or timestamps."""
    if first is not None:
        if first.rate is not None:
            return {"starting_time": first.starting_time, "rate": first.rate}
        return {"timestamps": first}
    rate = _nwb.regular_rate(times)
    if rate is not None:
        return {"starting_time": float(times[0]), "rate": rate}
    return {"timestamps": times}


def _add_frame_series(module: Any, frames: pd.DataFrame, times: np.ndarray, pynwb: Any) -> None:
    first = None
    for col in frames.columns:
        if col in _nwb.FRAME_INDEX_COLUMNS:
            continue
        values = frames[col]
        kind = _nwb.column_kind(values)
        if col == _nwb.PREDICTED:
            data, description = _label_codes(values)
            unit = "n.a."
        elif kind == "text":
            continue  # other text columns have no TimeSeries form
        else:
            data = (
                values.to_numpy(dtype=np.uint8)
                if kind == "bool"
                else values.to_numpy(dtype=np.float32 if kind == "float" else np.int64)
            )
            unit, description = frame_series_meta(col)
        ts = pynwb.TimeSeries(
            name=col,
            data=data,
            unit=unit,
            description=description,
            **_time_kwargs(times, first),
        )
        module.add(ts)
        if first is None:
            first = ts


def _label_codes(values: pd.Series) -> tuple[np.ndarray, str]:
    text = values.astype(object).where(values.notna(), None)
    classes = sorted({str(v) for v in text if v is not None})
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([index[str(v)] if v is not None else -1 for v in text], dtype=np.int16)
    legend = ", ".join(f"{i}={c}" for c, i in index.items())
    return codes, f"decoder label per frame as a code: {legend}; -1 = none"


def _video_path(prov: dict, session_id: str) -> Path | None:
    for s in prov.get("config", {}).get("sessions", []) or []:
        if str(s.get("id")) == session_id and s.get("video"):
            return Path(s["video"])
    return None


def _whole_frame(video: Path | None) -> list[int] | None:
    """ROI of the whole frame (0, 0, width, height) of ``video``, None if it cannot be read."""
    if video is None or not video.is_file():
        return None
    import av

    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            return [0, 0, int(stream.width), int(stream.height)]
    except (av.error.FFmpegError, IndexError):
        return None


def _add_face(
    module: Any, features: Any, times: np.ndarray, video: Path | None, pynwb: Any
) -> None:
    from hdmf.common import DynamicTable, VectorData
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage

    first = next(iter(module.data_interfaces.values()), None)
    if "shift" in features and features["shift"].shape[0] == times.size:
        module.add(
            pynwb.TimeSeries(
                name=_nwb.FACE_SHIFT,
                data=np.asarray(features["shift"].values, dtype=np.float32),
                unit="pixels",
                description="per-frame stabilisation shift of the face crop, columns (axis 0, "
                "axis 1) as in features.zarr 'shift'",
                **_time_kwargs(times, first),
            )
        )
    roi = features.attrs.get("roi")
    if roi is None:  # no ROI given: the whole frame was the face crop
        roi = _whole_frame(video)
    if roi is not None and len(roi) == 4:
        face = features.attrs.get("face_size") or [np.nan, np.nan]
        cols = {
            "x": ("left edge of the face crop in the video frame (pixels)", roi[0]),
            "y": ("top edge of the face crop in the video frame (pixels)", roi[1]),
            "width": ("width of the face crop (pixels)", roi[2]),
            "height": ("height of the face crop (pixels)", roi[3]),
            "face_height": ("height the crop is resized to before HOG (pixels)", face[0]),
            "face_width": ("width the crop is resized to before HOG (pixels)", face[1]),
        }
        module.add(
            DynamicTable(
                name=_nwb.FACE_ROI,
                description="face region of interest (x, y, width, height) in video pixels",
                columns=[
                    VectorData(name=k, description=d, data=np.array([v], dtype=np.float64))
                    for k, (d, v) in cols.items()
                ],
            )
        )
    if "mean_face" in features:
        img = np.asarray(features["mean_face"].values, dtype=np.float32)
        module.add(
            Images(
                name=_nwb.FACE_IMAGES,
                description="images of the face computed by mouseface",
                images=[
                    GrayscaleImage(
                        name=_nwb.MEAN_FACE,
                        data=img,
                        description="mean face crop of the session (resized face, gray)",
                    )
                ],
            )
        )


def _add_video(
    nwbfile: Any, prov: dict, session_id: str, times: np.ndarray, path: Path, pynwb: Any
) -> None:
    video = _video_path(prov, session_id)
    if video is None:
        return
    rel = os.path.relpath(video.resolve(), path.resolve().parent)
    rate = _nwb.regular_rate(times)
    timing = (
        {"starting_time": float(times[0]), "rate": rate, "num_samples": int(times.size)}
        if rate is not None
        else {"timestamps": times}
    )
    from pynwb.image import ImageSeries

    nwbfile.add_acquisition(
        ImageSeries(
            name=_nwb.VIDEO_SERIES,
            description="side-view video of the mouse face (external file) that mouseface read",
            external_file=[rel],
            starting_frame=[0],
            format="external",
            unit="n.a.",
            **timing,
        )
    )


#: descriptions of trials.parquet columns (others get a generic one)
_TRIAL_COLUMNS: dict[str, str] = {
    "session": "session id",
    "animal": "animal id",
    "trial": "trial id within the session",
    "trial_type": "stimulus name",
    "emotion": "emotion the stimulus evokes",
    "intensity": "stimulus intensity (NaN when not given)",
    "state": "internal state of the animal (n/a when not given)",
    "onset": "stimulus onset (s, video clock)",
    "duration": "stimulus duration (s)",
    "n_baseline": "number of frames in the baseline window",
    "n_response": "number of frames in the response window",
    "valid": "trial passes the quality rules (still baseline, mostly good frames)",
    "baseline_change": "mean change (1 - r with neutral) in the baseline window",
    "response_change": "mean change in the response window",
    "response": "response_change minus baseline_change",
    "predicted": "decoder's predicted class (cross-validated by animal)",
}


def _trial_description(col: str) -> str:
    if col in _TRIAL_COLUMNS:
        return _TRIAL_COLUMNS[col]
    if col.startswith("strength_"):
        return f"trial strength of {col.removeprefix('strength_')} (response minus baseline)"
    if col.startswith("p_"):
        return f"decoder probability of class {col.removeprefix('p_')}"
    return f"trials.parquet column '{col}'"


def _windows(prov: dict) -> tuple[float, float]:
    """(baseline start, response end) in s from onset, from the run's config (default -2, 2)."""
    win = prov.get("config", {}).get("windows") or {}
    try:
        return float(win.get("baseline", [-2.0])[0]), float(win.get("response", [0, 2.0])[-1])
    except (TypeError, ValueError, IndexError):
        return -2.0, 2.0


def _add_trials(nwbfile: Any, trials: pd.DataFrame, window: tuple[float, float]) -> None:
    onset = trials["onset"].to_numpy(dtype=np.float64)
    duration = (
        trials["duration"].fillna(0.0).to_numpy(dtype=np.float64)
        if "duration" in trials.columns
        else np.zeros_like(onset)
    )
    # a trial spans its analysis windows (a stimulus may have duration 0, and NWB intervals
    # need stop > start); the stimulus itself is in the onset / duration columns
    start = np.maximum(onset + min(window[0], 0.0), 0.0)
    stop = onset + np.maximum(max(window[1], 0.0), duration)
    stop = np.where(stop > start, stop, start + 1e-3)
    cols = list(trials.columns)
    for c in cols:
        nwbfile.add_trial_column(name=c, description=_trial_description(c))
    data = {c: _nwb.column_data(trials[c]) for c in cols}
    for i in range(len(trials)):
        nwbfile.add_trial(
            start_time=float(start[i]),
            stop_time=float(stop[i]),
            **{c: data[c][i] for c in cols},
        )


def _add_events(nwbfile: Any, trials: pd.DataFrame) -> None:
    from pynwb.event import EventsTable

    table = EventsTable(
        name=_nwb.EVENTS_TABLE,
        description="stimulus events of the session (onset = timestamp, duration, stimulus "
        "name, intensity, state, trial id), as in the BIDS-style events table",
        source_description="the session's events table given to mouseface",
    )
    cols = [c for c in ("trial_type", "intensity", "state", "trial") if c in trials.columns]
    for c in cols:
        table.add_column(name=c, description=_trial_description(c))
    data = {c: _nwb.column_data(trials[c]) for c in cols}
    duration = (
        trials["duration"].fillna(0.0).to_numpy(dtype=np.float64)
        if "duration" in trials.columns
        else np.zeros(len(trials))
    )
    for i, t in enumerate(trials["onset"].to_numpy(dtype=np.float64)):
        table.add_row(
            timestamp=float(t), duration=float(duration[i]), **{c: data[c][i] for c in cols}
        )
    nwbfile.add_events_table(table)


def _dynamic_table(name: str, df: pd.DataFrame, description: str) -> Any:
    from hdmf.common import DynamicTable, VectorData

    return DynamicTable(
        name=name,
        description=description,
        columns=[
            VectorData(
                name=str(c),
                description=f"{name}.parquet column '{c}'",
                data=_nwb.column_data(df[c]),
            )
            for c in df.columns
        ],
    )
