"""Overlay video of one session: the face, its HOG glyphs, the frame's label and live strengths.

For talks and for checking the method by eye: :func:`render_overlay` reads a run's output folder
(``provenance.json``, ``sessions/<id>/frames.parquet``, ``sessions/<id>/features.zarr``,
``trials.parquet``), streams the session's video through :class:`mouseface.io.video.VideoReader`
with the session's face ROI, and encodes an H.264 MP4 (:func:`mouseface.io.writer.write_video`,
streaming and atomic) whose every frame shows

- the face crop as read with the ROI, resized to the size HOG was computed on (``face_size`` of
  features.zarr); when the run registered or stabilised the faces, HOG saw the aligned crop and
  the panel shows the crop before alignment;
- beside it the frame's HOG as a glyph (:func:`mouseface.report.glyphs.hog_glyph`), from the
  feature store, or recomputed with :func:`mouseface.hog` when the store is absent or its HOG
  used blocks of more than one cell;
- the frame's label: the decoder's per-frame ``predicted`` column of frames.parquet when there is
  one, else the emotion with the largest ``strength_<e>`` (the caption says which);
- the ``strength_<e>`` traces of the last few seconds, scrolling, with the stimulus periods of
  trials.parquet shaded.

Frame times are the ``time`` column of frames.parquet (the video clock of the events table); the
output plays at the session's median frame rate.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import zarr

from mouseface.errors import InputError
from mouseface.features.extract import resize_faces
from mouseface.io.video import VideoReader
from mouseface.io.writer import write_video
from mouseface.report._overlay_frame import FramePainter, Layout, make_layout, wrap_caption
from mouseface.report.figures import emotion_colours

__all__ = ["OverlayResult", "render_overlay", "overlay_sessions"]

_FIX = "re-run `mouseface run` to write it"


@dataclass(frozen=True)
class OverlayResult:
    """What :func:`render_overlay` wrote.

    Attributes
    ----------
    path : Path
        The MP4 file.
    session : str
    n_frames : int
        Frames in the video (session frames with ``start <= time < end``).
    first_frame : int
        Session frame index of the video's first frame.
    width, height : int
        Frame size of the video, pixels.
    fps : float
        Frame rate the video plays at (the session's median rate), frames/s.
    label_source : str
        ``"predicted"`` (the decoder's column in frames.parquet) or ``"strength"`` (largest
        ``strength_<e>``).
    glyph_source : str
        ``"features.zarr"`` or ``"recomputed"``.
    layout : Layout
        Where each part of the frame is drawn.
    seconds : float
        Wall-clock time of decoding, drawing and encoding, seconds.
    """

    path: Path
    session: str
    n_frames: int
    first_frame: int
    width: int
    height: int
    fps: float
    label_source: str
    glyph_source: str
    layout: Layout
    seconds: float


def overlay_sessions(out_dir: str | Path) -> list[str]:
    """Ids of the sessions of an output folder that have a ``frames.parquet``."""
    folder = Path(out_dir) / "sessions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "frames.parquet").is_file())


@dataclass(frozen=True)
class _Session:
    """The inputs of one session's overlay, read and checked."""

    sid: str
    frames: pd.DataFrame
    video: Path
    roi: tuple[int, int, int, int] | None
    face_hw: tuple[int, int]
    hog_params: dict
    store: Path | None
    trials: pd.DataFrame | None
    image_fps: float
    container_times: bool = True
    """frames.parquet's times are the video container's (False: they came from elsewhere, an
    NWB ImageSeries, so only the frame count can be checked against the video)"""


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read this JSON file ({exc}); {_FIX}") from exc
    return obj if isinstance(obj, dict) else {}


def _load_session(out_dir: Path, session: str, video: Path | None) -> _Session:
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: output folder not found; pass the --out folder of a run")
    known = overlay_sessions(out_dir)
    if session not in known:
        listed = ", ".join(known) if known else "none (no sessions/<id>/frames.parquet)"
        raise InputError(
            f"{out_dir}: no session {session!r}; sessions there: {listed}. Pass one of them "
            "with --session"
        )
    sdir = out_dir / "sessions" / session
    fpath = sdir / "frames.parquet"
    try:
        frames = pd.read_parquet(fpath)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{fpath}: cannot read this Parquet file ({exc}); {_FIX}") from exc
    if "time" not in frames or not any(c.startswith("strength_") for c in frames.columns):
        raise InputError(f"{fpath}: needs a 'time' and 'strength_<emotion>' columns; {_FIX}")
    if len(frames) == 0:
        raise InputError(f"{fpath}: holds no frames; {_FIX}")
    prov_path = out_dir / "provenance.json"
    prov = _read_json(prov_path) if prov_path.is_file() else {}
    cfg_sessions = {
        s.get("id"): s
        for s in (prov.get("config") or {}).get("sessions") or []
        if isinstance(s, dict)
    }
    info = ((prov.get("sessions") or {}).get(session)) or {}
    store = sdir / "features.zarr"
    attrs: dict = {}
    if store.is_dir():
        try:
            attrs = dict(zarr.open_group(str(store), mode="r").attrs)
        except Exception as exc:  # zarr raises several types for a damaged store
            raise InputError(f"{store}: cannot open this feature store ({exc}); {_FIX}") from exc
    else:
        store = None
    if video is None:
        v = (cfg_sessions.get(session) or {}).get("video")
        if v is None:
            raise InputError(
                f"{prov_path}: does not name the video of session {session!r}; pass it with --video"
            )
        video = Path(v)
        if not video.is_absolute():
            video = (out_dir / video).resolve()
    video = Path(video)
    if not video.exists():
        raise InputError(
            f"{video}: the video of session {session!r} (from {prov_path.name}) is not there; "
            "pass its new path with --video"
        )
    roi = attrs.get("roi", info.get("roi"))
    roi = tuple(int(v) for v in roi) if roi else None
    face = attrs.get("face_size") or info.get("face_size")
    hog_params = dict(
        attrs.get("hog") or ((prov.get("parameters") or {}).get("hog")) or {"orientations": 8}
    )
    hog_params.pop("face_width", None)
    trials = None
    if (tp := out_dir / "trials.parquet").is_file():
        try:
            trials = pd.read_parquet(tp)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(f"{tp}: cannot read this Parquet file ({exc}); {_FIX}") from exc
        if "session" in trials:
            trials = trials[trials["session"].astype(str) == session]
    if face is None:
        if roi is None:
            raise InputError(
                f"{out_dir}: neither features.zarr nor provenance.json gives the face size of "
                f"session {session!r}; {_FIX}"
            )
        face = (roi[3], roi[2])
    return _Session(
        sid=session,
        frames=frames,
        video=video,
        roi=roi,
        face_hw=(int(face[0]), int(face[1])),
        hog_params=hog_params,
        store=store,
        trials=trials,
        image_fps=float((prov.get("config") or {}).get("fps") or 30.0),
        container_times="time_source" not in attrs,
    )


def _labels(frames: pd.DataFrame, emotions: list[str]) -> tuple[list[str], str]:
    """Per-frame label and its source (``"predicted"`` or ``"strength"``)."""
    if "predicted" in frames:
        pred = frames["predicted"]
        return ["" if pd.isna(v) else str(v) for v in pred], "predicted"
    S = frames[[f"strength_{e}" for e in emotions]].to_numpy(dtype=np.float64)
    ok = np.isfinite(S).any(axis=1)
    best = np.argmax(np.where(np.isfinite(S), S, -np.inf), axis=1)
    return [emotions[b] if k else "" for b, k in zip(best, ok, strict=True)], "strength"


def _clip_range(
    times: np.ndarray, start: float | None, end: float | None, where: str
) -> tuple[int, int]:
    """Session frame indices ``[i0, i1)`` with ``start <= time < end``; InputError otherwise."""
    t0, t1 = float(times[0]), float(times[-1])
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    lo = t0 if start is None else float(start)
    hi = t1 + max(dt, 1e-9) if end is None else float(end)
    span = f"the video runs from {t0:.3f} s to {t1:.3f} s ({len(times)} frames)"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"{where}: --start and --end must be finite numbers of seconds")
    if lo >= hi:
        raise InputError(
            f"{where}: --start {lo:g} s is not before --end {hi:g} s; give start < end"
        )
    if lo < t0 - 1e-9 or lo > t1:
        raise InputError(f"{where}: --start {lo:g} s lies outside the video; {span}")
    if hi > t1 + dt + 1e-9:
        raise InputError(
            f"{where}: --end {hi:g} s lies past the video's end; {span}: give --end <= "
            f"{t1 + dt:.3f} or leave it out"
        )
    i0 = int(np.searchsorted(times, lo, side="left"))
    i1 = int(np.searchsorted(times, hi, side="left"))
    if i1 <= i0:
        raise InputError(f"{where}: no frame lies in [{lo:g}, {hi:g}) s; widen the range")
    return i0, i1


def _bands(s: _Session) -> list[tuple[float, float, str]]:
    """Stimulus periods ``(onset, offset, emotion)`` of the session's trials (2 s if unknown)."""
    t = s.trials
    if t is None or "onset" not in t:
        return []
    dur = t["duration"] if "duration" in t else pd.Series(2.0, index=t.index)
    name = t["emotion"] if "emotion" in t else t.get("trial_type", pd.Series("", index=t.index))
    return [
        (float(o), float(o) + (float(d) if np.isfinite(d) and d > 0 else 2.0), str(n))
        for o, d, n in zip(t["onset"], dur.astype(float), name, strict=True)
        if np.isfinite(o)
    ]


def _glyph_grid(s: _Session, scale: float) -> tuple[int, int, int, int, bool]:
    """(cells_y, cells_x, orientations, cell_px, stored_rows_usable)."""
    ppc = tuple(s.hog_params.get("pixels_per_cell") or (32, 32))
    cpb = tuple(s.hog_params.get("cells_per_block") or (1, 1))
    n_or = int(s.hog_params.get("orientations") or 8)
    cy, cx = s.face_hw[0] // int(ppc[0]), s.face_hw[1] // int(ppc[1])
    if cy < 1 or cx < 1:
        raise InputError(
            f"session {s.sid}: the face ({s.face_hw[1]}x{s.face_hw[0]} px) is smaller than one "
            f"HOG cell ({ppc[1]}x{ppc[0]} px); nothing to draw"
        )
    cell_px = max(3, int(round(min(ppc) * scale)))
    # a run on features without hog (e.g. [keypoints]) stored none: recompute it
    stored = s.store is not None and tuple(cpb) == (1, 1) and (s.store / "hog").is_dir()
    return cy, cx, n_or, cell_px, stored


def render_overlay(
    out_dir: str | Path,
    session: str,
    *,
    start: float | None = None,
    end: float | None = None,
    path: str | Path | None = None,
    video: str | Path | None = None,
    window: float = 5.0,
    face_width: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    progress: Callable[[int, int], None] | None = None,
) -> OverlayResult:
    """Render the overlay MP4 of one session of a run's output folder.

    Parameters
    ----------
    out_dir : str or Path
        Output folder of ``mouseface run`` / ``analyze``.
    session : str
        Session id (a folder of ``out_dir/sessions``).
    start, end : float, optional
        Time range in seconds on the video clock (frames.parquet ``time``): frames with
        ``start <= time < end``. Default: the whole session.
    path : str or Path, optional
        MP4 to write; default ``out_dir/sessions/<session>/overlay.mp4``. Its folder must exist.
    video : str or Path, optional
        The session's video, when it has moved since the run (default: the path in
        provenance.json).
    window : float, optional
        Seconds of strength trace shown, ending at the current frame (default 5, > 0).
    face_width : int, optional
        Width of the face panel, pixels (default: the width HOG was computed at, at least 240;
        rounded to even). The glyph panel has the same size.
    crf, preset : optional
        x264 quality (lower is better; default 23) and speed preset (default ``"veryfast"``).
    progress : callable, optional
        Called as ``progress(frames_done, n_frames)`` after each frame written.

    Returns
    -------
    OverlayResult

    Raises
    ------
    InputError
        Unknown session (the message lists those there are), ``start >= end``, times outside
        the video, a video that is missing or does not match frames.parquet, damaged outputs.
    """
    t_start = _time.perf_counter()
    out_dir = Path(out_dir)
    s = _load_session(out_dir, session, None if video is None else Path(video))
    if not (np.isfinite(window) and window > 0):
        raise InputError(f"window must be > 0 seconds, got {window!r}")
    fpath = out_dir / "sessions" / session / "frames.parquet"
    times = s.frames["time"].to_numpy(dtype=np.float64)
    i0, i1 = _clip_range(times, start, end, str(fpath))
    emotions = [c.removeprefix("strength_") for c in s.frames.columns if c.startswith("strength_")]
    labels, label_source = _labels(s.frames, emotions)
    fh, fw = s.face_hw
    disp_w = int(face_width) if face_width is not None else max(fw, 240)
    if disp_w < 16:
        raise InputError(f"face_width must be >= 16 pixels, got {face_width!r}")
    disp_w += disp_w % 2
    scale = disp_w / fw
    disp_h = max(2, int(round(fh * scale)))
    cy, cx, n_or, cell_px, stored = _glyph_grid(s, scale)
    glyph_source = "features.zarr" if stored else "recomputed"
    hog_rows = _hog_source(s, stored, i0, i1)
    vmax = _glyph_vmax(s, stored, i0, i1)
    what = (
        "label: decoder ('predicted' in frames.parquet)"
        if label_source == "predicted"
        else "label: largest strength_<e> (no decoder labels in frames.parquet)"
    )
    caption = wrap_caption(
        f"{session}   {what}   glyph: HOG ({glyph_source})   traces: strength, last {window:g} s",
        2 * disp_w,
    )
    layout = make_layout((disp_h, disp_w), caption_lines=len(caption))
    names = ["neutral", *emotions, *sorted({v for v in labels if v} - {"neutral", *emotions})]
    painter = FramePainter(
        layout,
        times=times,
        strengths={e: s.frames[f"strength_{e}"].to_numpy() for e in emotions},
        labels=labels,
        colours=emotion_colours(names),
        glyph_grid=(cy, cx, n_or, cell_px),
        glyph_vmax=vmax,
        window=window,
        bands=_bands(s),
        caption=caption,
    )
    target = Path(path) if path is not None else out_dir / "sessions" / session / "overlay.mp4"
    fps = float(1.0 / np.median(np.diff(times))) if len(times) > 1 else 25.0
    n = i1 - i0

    def frames() -> Iterator[np.ndarray]:
        for index, face in _faces(s, times, i0, i1, (disp_h, disp_w)):
            hog_row = hog_rows(index, face)
            yield painter.paint(index, face, hog_row)

    written = write_video(
        target,
        frames(),
        fps=fps,
        crf=crf,
        preset=preset,
        progress=None if progress is None else (lambda k: progress(k, n)),
    )
    return OverlayResult(
        path=written,
        session=session,
        n_frames=n,
        first_frame=i0,
        width=layout.width,
        height=layout.height,
        fps=fps,
        label_source=label_source,
        glyph_source=glyph_source,
        layout=layout,
        seconds=_time.perf_counter() - t_start,
    )


def _faces(
    s: _Session, times: np.ndarray, i0: int, i1: int, size: tuple[int, int]
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(session frame index, face crop resized to size)`` for frames ``i0 .. i1 - 1``."""
    reader = VideoReader(s.video, roi=s.roi, chunk_size=64, fps=s.image_fps)
    tol = 0.5 * (float(np.median(np.diff(times))) if len(times) > 1 else 1.0)
    for chunk in reader.chunks(warn=False):
        a, b = chunk.start, chunk.start + len(chunk.frames)
        if b <= i0:
            continue
        lo, hi = max(a, i0), min(b, i1)
        if hi > lo:
            got = chunk.times[lo - a : hi - a]
            want = times[lo:hi]
            if s.container_times and np.max(np.abs(got - want)) > tol:
                k = lo + int(np.argmax(np.abs(got - want) > tol))
                raise InputError(
                    f"{s.video}: frame {k} is at {chunk.times[k - a]:.3f} s but frames.parquet "
                    f"of session {s.sid} has it at {times[k]:.3f} s; this is not the video the "
                    "run analysed: pass the right one with --video"
                )
            faces = resize_faces(np.ascontiguousarray(chunk.frames[lo - a : hi - a]), size)
            for k in range(hi - lo):
                yield lo + k, faces[k]
        if b >= i1:
            return
    raise InputError(
        f"{s.video}: decodes only {reader.n_decoded} frames but frames.parquet of session "
        f"{s.sid} has {len(times)}; this is not the video the run analysed (or it was cut): "
        "pass the right one with --video"
    )


def _hog_source(
    s: _Session, stored: bool, i0: int, i1: int
) -> Callable[[int, np.ndarray], np.ndarray]:
    """``f(index, face) -> HOG row`` (cells of one block) for frames ``i0 .. i1 - 1``."""
    if stored:
        arr = zarr.open_group(str(s.store), mode="r")["hog"]
        block = 256
        cache: dict[int, np.ndarray] = {}

        def read(index: int, face: np.ndarray) -> np.ndarray:
            b = (index - i0) // block
            if b not in cache:
                cache.clear()
                lo = i0 + b * block
                cache[b] = np.asarray(arr[lo : min(i1, lo + block)])
            return cache[b][(index - i0) % block]

        return read
    from mouseface.features.hog import hog

    params = {k: v for k, v in s.hog_params.items() if k != "cells_per_block"}
    params.pop("block_norm", None)

    def compute(index: int, face: np.ndarray) -> np.ndarray:
        # HOG on the face at the size the run used (the panel may be scaled), one-cell blocks
        at_run_size = cv2.resize(face, (s.face_hw[1], s.face_hw[0]), interpolation=cv2.INTER_AREA)
        return hog(at_run_size[None], cells_per_block=(1, 1), block_norm="L2-Hys", **params)[0]

    return compute


def _glyph_vmax(s: _Session, stored: bool, i0: int, i1: int) -> float | None:
    """HOG value drawn at full length: the 99.5th percentile over up to 64 frames of the clip.

    None (each frame's own largest value) when the HOG is recomputed frame by frame.
    """
    if not stored:
        return None
    arr = zarr.open_group(str(s.store), mode="r")["hog"]
    idx = np.unique(np.linspace(i0, i1 - 1, min(64, i1 - i0)).astype(int))
    sample = np.asarray(arr.get_orthogonal_selection((idx, slice(None))))
    v = float(np.nanpercentile(sample, 99.5)) if sample.size else 0.0
    return v if np.isfinite(v) and v > 0 else 1.0
