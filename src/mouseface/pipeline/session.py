"""Per-session steps of the pipeline (see :mod:`mouseface.pipeline.run`, which orders them).

Feature stores are read in row chunks so that memory does not grow with video length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from mouseface.errors import InputError
from mouseface.expression.prototypes import (
    Candidates,
    neutral_prototype,
    pearson_matrix,
    pearson_rows,
)
from mouseface.expression.trials import good_or_all, trial_table, window_masks
from mouseface.face.roi import check_roi, propose_roi
from mouseface.features.extract import extract_features
from mouseface.features.motion import motion_outliers
from mouseface.io.config import ProjectConfig, SessionConfig, trial_emotion
from mouseface.io.events import check_events_in_video, read_events
from mouseface.io.outputs import atomic_dir, sha256_file, write_parquet_atomic
from mouseface.io.video import VideoInfo, VideoReader, probe_video

__all__ = [
    "SessionData",
    "validate_session",
    "extract_session",
    "prepare_session",
    "iter_hog",
    "read_hog_rows",
    "collect_candidates",
    "session_strengths",
]

_ROWS = 8192


@dataclass
class SessionData:
    """Everything the pipeline knows about one session (1-D series only; HOG stays on disk)."""

    cfg: SessionConfig
    events: pd.DataFrame
    info: VideoInfo
    roi: tuple[int, int, int, int] | None
    video_sha256: str
    events_sha256: str | None
    store: Path | None = None
    times: np.ndarray | None = None
    motion: np.ndarray | None = None
    dark: np.ndarray | None = None
    saturated: np.ndarray | None = None
    outlier: np.ndarray | None = None
    good: np.ndarray | None = None
    face_size: tuple[int, int] | None = None
    decode_error: dict | None = None
    resumed: bool = False
    registration: dict | None = None
    reference: np.ndarray | None = None
    face_target: tuple[int, int] | None = None
    masks: dict = field(default_factory=dict)
    neutral: np.ndarray | None = None
    change: np.ndarray | None = None

    @property
    def n_frames_hint(self) -> int:
        """Frame count the container announces (0 if unknown), for progress bars."""
        return self.info.n_frames or 0

    @property
    def crop_hw(self) -> tuple[int, int]:
        """(h, w) of the face crops before resizing (after registration, if any)."""
        if self.registration is not None:
            return tuple(self.registration["shape"])
        if self.roi is not None:
            return (self.roi[3], self.roi[2])
        return (self.info.height, self.info.width)

    @property
    def fps(self) -> float:
        """Median frame rate from the timestamps (frames/s)."""
        if self.times is None or len(self.times) < 2:
            return self.info.fps
        return float(1.0 / np.median(np.diff(self.times)))

    def summary(self) -> dict:
        """JSON-able summary for provenance."""
        return {
            "animal": self.cfg.animal,
            "n_frames": 0 if self.times is None else len(self.times),
            "fps": round(self.fps, 4),
            "decode_error": self.decode_error,
            "roi": list(self.roi) if self.roi else None,
            "face_size": list(self.face_size) if self.face_size else None,
            "n_trials": len(self.events),
            "resumed_features": self.resumed,
            "registration": self.registration,
            "flagged_frames": int((~self.good).sum()) if self.good is not None else None,
        }


def _sample_frames(video: Path, *, n: int = 300, step: int = 3) -> np.ndarray:
    frames = []
    for chunk in VideoReader(video, chunk_size=64).chunks(warn=False):
        frames.extend(chunk.frames)
        if len(frames) >= n:
            break
    return np.stack(frames[:n:step])


def validate_session(
    sc: SessionConfig, cfg: ProjectConfig, *, strict_emotions: bool
) -> SessionData:
    """Check one session's inputs before any work: video, ROI, events, emotion map."""
    info = probe_video(sc.video, fps=cfg.fps)
    if sc.roi == "auto":
        roi = propose_roi(_sample_frames(sc.video))
    elif sc.roi is None:
        roi = None
    else:
        roi = check_roi(sc.roi, (info.height, info.width), source=str(sc.video))
    if sc.events is None:
        raise InputError(
            f"session {sc.id}: no events file; give 'events: <file.tsv>' with the "
            "stimulus onsets (or make one with 'mouseface events from-video')"
        )
    events = read_events(sc.events)
    events["emotion"] = [
        trial_emotion(t, cfg.emotions, source=str(sc.events), strict=strict_emotions)
        for t in events["trial_type"]
    ]
    if sc.state is not None:
        events["state"] = events["state"].where(events["state"].notna(), sc.state)
    if info.duration is not None:
        check_events_in_video(events, duration=info.duration, path=sc.events)
    return SessionData(
        cfg=sc,
        events=events,
        info=info,
        roi=roi,
        video_sha256=sha256_file(sc.video),
        events_sha256=sha256_file(sc.events),
    )


def _params_key(s: SessionData, cfg: ProjectConfig) -> str:
    blob = json.dumps(
        {
            "video": s.video_sha256,
            "roi": s.roi,
            "hog": cfg.hog.model_dump(),
            "stabilise": cfg.stabilise,
            "fps": cfg.fps,
            "registration": s.registration,
            "face": s.face_target,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def reference_face(s: SessionData, *, n: int = 32) -> np.ndarray:
    """Median of the session's first ``n`` face crops, uint8 (h, w): its reference face."""
    if s.reference is None:
        first = next(VideoReader(s.cfg.video, roi=s.roi, chunk_size=n).chunks(warn=False))
        s.reference = np.median(first.frames, axis=0).astype(np.uint8)
    return s.reference


def register_sessions(sessions: list[SessionData]) -> None:
    """Align each session's reference face to the first session of the same animal.

    The transform (translation by phase correlation, rotation and scale search; see
    :func:`mouseface.face.estimate_transform`) is stored in ``s.registration`` and applied to
    every frame before HOG, as the paper aligned sessions recorded on different days.
    """
    from mouseface.face.registration import estimate_transform

    first: dict[str, SessionData] = {}
    for s in sessions:
        ref = first.setdefault(s.cfg.animal, s)
        shape = list(reference_face(ref).shape)
        if ref is s:
            s.registration = {
                "reference_session": s.cfg.id,
                "dy": 0.0,
                "dx": 0.0,
                "rotation": 0.0,
                "scale": 1.0,
                "score": 1.0,
                "shape": shape,
            }
            continue
        try:
            t = estimate_transform(reference_face(s), reference_face(ref))
        except InputError as exc:
            raise InputError(
                f"session {s.cfg.id}: cannot register its face to session "
                f"{ref.cfg.id} of the same animal: {exc}"
            ) from None
        s.registration = {"reference_session": ref.cfg.id, **t.as_dict(), "shape": shape}


def _frame_transform(s: SessionData, cfg: ProjectConfig) -> Callable | None:
    """Chunk transform: optional stabilisation onto the session's reference, then registration."""
    from mouseface.face.registration import Transform, apply_transform
    from mouseface.face.stabilise import Stabiliser

    stab = Stabiliser(reference_face(s)).transform if cfg.stabilise else None
    reg = s.registration
    if reg is not None and reg["reference_session"] == s.cfg.id:
        reg = None
    if stab is None and reg is None:
        return None
    t = None
    if reg is not None:
        t = Transform(dy=reg["dy"], dx=reg["dx"], rotation=reg["rotation"], scale=reg["scale"])

    def apply(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shifts = np.zeros((len(frames), 2), dtype=np.float32)
        if stab is not None:
            frames, shifts = stab(frames)
        if t is not None:
            frames = np.stack([apply_transform(f, t, output_shape=reg["shape"]) for f in frames])
        return frames, shifts

    return apply


def extract_session(
    s: SessionData,
    cfg: ProjectConfig,
    out: Path,
    *,
    resume: bool,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SessionData:
    """Stream the session's video into ``out/sessions/<id>/features.zarr`` (or reuse it)."""
    store = out / "sessions" / s.cfg.id / "features.zarr"
    key = _params_key(s, cfg)
    g = None
    if resume and store.is_dir():
        try:
            g = zarr.open_group(str(store), mode="r")
            if g.attrs.get("params_key") != key:
                g = None
        except (FileNotFoundError, ValueError, KeyError):
            g = None
    if g is None:
        hog_params = cfg.hog.model_dump(exclude={"face_width"})
        crop_shape = tuple(s.registration["shape"]) if s.registration else None
        attrs = {
            "params_key": key,
            "session": s.cfg.id,
            "animal": s.cfg.animal,
            "video_sha256": s.video_sha256,
            "registration": s.registration,
            "stabilised": cfg.stabilise,
        }
        with atomic_dir(store) as tmp:
            extract_features(
                s.cfg.video,
                tmp,
                roi=s.roi,
                face_shape=s.face_target,
                hog_params=hog_params,
                stabiliser=_frame_transform(s, cfg),
                chunk_size=cfg.chunk_size,
                n_jobs=n_jobs,
                fps=cfg.fps,
                progress=progress,
                crop_shape=crop_shape,
                attrs=attrs,
            )
        g = zarr.open_group(str(store), mode="r")
    else:
        s.resumed = True
        if progress is not None:
            progress(g["time"].shape[0])
    s.store = store
    s.times = g["time"][:]
    s.motion = g["motion"][:]
    s.dark = g["dark"][:]
    s.saturated = g["saturated"][:]
    s.face_size = tuple(g.attrs["face_size"])
    s.decode_error = g.attrs.get("decode_error")
    s.outlier = motion_outliers(s.motion)
    s.good = ~(s.dark | s.saturated)
    check_events_in_video(s.events, duration=float(s.times[-1]), path=s.cfg.events)
    return s


def _hog_array(s: SessionData) -> zarr.Array:
    return zarr.open_group(str(s.store), mode="r")["hog"]


def iter_hog(s: SessionData, *, rows: int = _ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, hog[start:start + rows])`` over the session's feature store."""
    arr = _hog_array(s)
    for i in range(0, arr.shape[0], rows):
        yield i, arr[i : i + rows]


def read_hog_rows(s: SessionData, index: np.ndarray) -> np.ndarray:
    """HOG rows at sorted frame indices, shape (len(index), n_features), float32."""
    index = np.asarray(index, dtype=np.int64)
    arr = _hog_array(s)
    if len(index) == 0:
        return np.zeros((0, arr.shape[1]), dtype=np.float32)
    return arr.get_orthogonal_selection((index, slice(None)))


def _union(masks: list[np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for m in masks:
        out |= m
    return out


def good_rows(s: SessionData, mask: np.ndarray) -> np.ndarray:
    """Frame indices of ``mask`` without a quality flag, or all of ``mask`` if every one has."""
    return good_or_all(mask, s.good)


def prepare_session(s: SessionData, cfg: ProjectConfig) -> None:
    """Trial windows, neutral prototype (good baseline frames) and per-frame ``change``."""
    n = len(s.times)
    s.masks = window_masks(s.times, s.events, windows=cfg.windows.model_dump(), source=s.cfg.events)
    base = _union(s.masks["baseline"], n)
    s.neutral = neutral_prototype(read_hog_rows(s, good_rows(s, base)))
    change = np.empty(n, dtype=np.float32)
    for i, block in iter_hog(s):
        change[i : i + len(block)] = 1.0 - pearson_rows(block, s.neutral)
    s.change = change


def collect_candidates(sessions: list[SessionData], cfg: ProjectConfig) -> Candidates:
    """Response-window frames (good ones where there are any) per (animal, emotion)."""
    cands = Candidates(keep=max(200, cfg.prototype_frames))
    for s in sessions:
        for k, emo in enumerate(s.events["emotion"]):
            m = s.masks["response"][k]
            idx = good_rows(s, m)
            cands.add(s.cfg.animal, emo, read_hog_rows(s, idx), 1.0 - s.change[idx])
    return cands


def session_strengths(s: SessionData, protos: dict, cfg: ProjectConfig, out: Path) -> pd.DataFrame:
    """Per-frame strengths -> ``frames.parquet``; returns the session's trial rows."""
    emotions = list(protos["pooled"])
    P = np.stack([protos["animal"].get((s.cfg.animal, e), protos["pooled"][e]) for e in emotions])
    n = len(s.times)
    strength = np.empty((n, len(emotions)), dtype=np.float32)
    for i, block in iter_hog(s):
        strength[i : i + len(block)] = pearson_matrix(block, P)
    frames = pd.DataFrame(
        {
            "frame": np.arange(n),
            "time": s.times,
            "motion": s.motion,
            "dark": s.dark,
            "saturated": s.saturated,
            "motion_outlier": s.outlier,
            "good": s.good,
            "change": s.change,
        }
    )
    for j, e in enumerate(emotions):
        frames[f"strength_{e}"] = strength[:, j]
    write_parquet_atomic(out / "sessions" / s.cfg.id / "frames.parquet", frames)
    table = trial_table(
        s.events,
        s.times,
        s.change,
        {e: strength[:, j] for j, e in enumerate(emotions)},
        good=s.good,
        still=~s.outlier,
        masks=s.masks,
    )
    table.insert(0, "animal", s.cfg.animal)
    table.insert(0, "session", s.cfg.id)
    table.insert(4, "emotion", s.events["emotion"].to_numpy())
    return table
