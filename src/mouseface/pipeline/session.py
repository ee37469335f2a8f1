"""Per-session stages of the pipeline, each a function from one immutable value to the next.

:class:`SessionInputs` (validated inputs) -> :class:`SessionFeatures` (the feature store and its
per-frame series) -> :class:`SessionNeutral` (trial windows, neutral prototype, ``change``) ->
:class:`SessionStrength` (per-frame strength against the prototypes) -> the session's frame table
and trial rows. :mod:`mouseface.pipeline.run` orders them; the values are frozen dataclasses whose
arrays are read-only, so a later stage cannot change what an earlier one computed. HOG stays on
disk and is read in row blocks (:mod:`mouseface.io.feature_store`), so memory does not grow with
video length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.expression.prototypes import pearson_matrix, pearson_rows, session_neutral
from mouseface.expression.trials import good_or_all, trial_table, window_masks
from mouseface.face.roi import check_roi, propose_roi
from mouseface.features.extract import VIDEO_FEATURE_SETS, common_face_size, extract_features
from mouseface.features.keypoint_store import add_keypoints, check_pose
from mouseface.features.motion import motion_outliers
from mouseface.io.config import ProjectConfig, SessionConfig, trial_emotion
from mouseface.io.events import check_events_in_video, read_events
from mouseface.io.feature_store import (
    StoreSeries,
    iter_hog,
    open_store,
    read_rows,
    read_series,
)
from mouseface.io.outputs import atomic_dir, sha256_file, write_parquet_atomic
from mouseface.io.video import VideoInfo, VideoReader, probe_video
from mouseface.neural.laser import read_laser_table
from mouseface.pipeline.nwb_inputs import NWBInputs, resolve_nwb, write_nwb_frame_times

__all__ = [
    "SessionInputs",
    "SessionFeatures",
    "SessionNeutral",
    "SessionStrength",
    "validate_session",
    "laser_events",
    "register_sessions",
    "size_faces",
    "extract_session",
    "neutral_session",
    "session_strength",
    "frame_table",
    "write_frames",
    "trial_rows",
]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class SessionInputs:
    """One session's validated inputs (stage 1: validate).

    Attributes
    ----------
    cfg : SessionConfig
        The session's config, with ``video`` and ``neural`` filled in from its NWB file
        (:func:`mouseface.pipeline.nwb_inputs.resolve_nwb`) where it gave ``nwb`` and not them.
    events : DataFrame
        The events table with an ``emotion`` column (and ``state`` filled from the config).
    info : VideoInfo
        What the video container says.
    roi : (x, y, w, h) or None
        Face crop in video pixels (None = whole frame).
    video_sha256, events_sha256 : str
        Hashes of the input files (provenance, resume key).
    registration : dict or None
        Transform onto the animal's first session (``align_sessions``), see
        :func:`register_sessions`.
    face_target : (int, int) or None
        (h, w) every face crop is resized to before HOG (set by :func:`size_faces`).
    pose_sha256 : str or None
        Hash of the session's pose file when the run's features include ``keypoints``.
    laser : DataFrame or None
        The checked laser-epoch table (:func:`mouseface.neural.laser.read_laser_table`) of a
        session with ``opto``. In an optogenetics-only session (``opto`` and no ``events``) the
        epochs are also its ``events`` (``emotion`` None): they give the baseline windows of its
        neutral face but are not emotion trials.
    nwb : NWBInputs or None
        What the session takes from its NWB file (``nwb`` in the config): events, frame times,
        the clock origin of its imaging.
    """

    cfg: SessionConfig
    events: pd.DataFrame
    info: VideoInfo
    roi: tuple[int, int, int, int] | None
    video_sha256: str
    events_sha256: str | None
    registration: dict | None = None
    face_target: tuple[int, int] | None = None
    laser: pd.DataFrame | None = None
    nwb: NWBInputs | None = None
    pose_sha256: str | None = None

    @property
    def opto_only(self) -> bool:
        """An optogenetics session without emotion trials (``opto`` and no events)."""
        return self.cfg.opto is not None and self.events_file == self.cfg.opto

    @property
    def events_file(self) -> Path | None:
        """The file the events came from: ``events``, the NWB file, or the laser table."""
        if self.cfg.events is not None:
            return self.cfg.events
        if self.nwb is not None and self.nwb.events:
            return self.nwb.path
        return self.cfg.opto

    @property
    def id(self) -> str:
        """Session id."""
        return self.cfg.id

    @property
    def animal(self) -> str:
        """Animal of the session."""
        return self.cfg.animal

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


@dataclass(frozen=True)
class SessionFeatures:
    """One session's feature store and per-frame series (stage 2: features).

    Attributes
    ----------
    inputs : SessionInputs
    store : Path
        ``sessions/<id>/features.zarr`` (HOG, read with :mod:`mouseface.io.feature_store`).
    times : ndarray of float64, shape (n,)
        Frame times (s).
    motion : ndarray of float32, shape (n,)
    dark, saturated, outlier : ndarray of bool, shape (n,)
        Image flags and motion outliers (:func:`mouseface.features.motion.motion_outliers`).
    good : ndarray of bool, shape (n,)
        Neither dark nor saturated.
    face_size : (int, int)
        (h, w) of the crops HOG was computed on (px).
    decode_error : dict or None
        Where decoding the video stopped early, if it did.
    resumed : bool
        The store was reused (``--resume``) rather than computed.
    """

    inputs: SessionInputs
    store: Path
    times: np.ndarray
    motion: np.ndarray
    dark: np.ndarray
    saturated: np.ndarray
    outlier: np.ndarray
    good: np.ndarray
    face_size: tuple[int, int]
    decode_error: dict | None = None
    resumed: bool = False

    def __post_init__(self) -> None:
        for name in ("times", "motion", "dark", "saturated", "outlier", "good"):
            _frozen(getattr(self, name))

    @property
    def id(self) -> str:
        """Session id."""
        return self.inputs.cfg.id

    @property
    def animal(self) -> str:
        """Animal of the session."""
        return self.inputs.cfg.animal

    @property
    def events(self) -> pd.DataFrame:
        """The session's events table (see :class:`SessionInputs`)."""
        return self.inputs.events

    @property
    def fps(self) -> float:
        """Median frame rate from the timestamps (frames/s)."""
        if len(self.times) < 2:
            return self.inputs.info.fps
        return float(1.0 / np.median(np.diff(self.times)))

    def summary(self) -> dict:
        """JSON-able summary for provenance."""
        s = self.inputs
        return {
            "animal": s.cfg.animal,
            "n_frames": len(self.times),
            "fps": round(self.fps, 4),
            "decode_error": self.decode_error,
            "roi": list(s.roi) if s.roi else None,
            "face_size": list(self.face_size) if self.face_size else None,
            "n_trials": len(s.events),
            "resumed_features": self.resumed,
            "registration": s.registration,
            "flagged_frames": int((~self.good).sum()),
            **({"nwb": s.nwb.provenance()} if s.nwb is not None else {}),
        }


@dataclass(frozen=True)
class SessionNeutral:
    """One session's trial windows, neutral prototype and ``change`` (stage 3: neutral).

    Attributes
    ----------
    features : SessionFeatures
    masks : dict of str to list of ndarray of bool
        ``{"baseline": [mask per trial], "response": [...]}``, each (n,).
    neutral : ndarray of float32, shape (d,)
        Mean HOG of the good baseline frames
        (:func:`mouseface.expression.prototypes.session_neutral`).
    change : ndarray of float32, shape (n,)
        1 - Pearson r of every frame with ``neutral``.
    """

    features: SessionFeatures
    masks: Mapping[str, list[np.ndarray]]
    neutral: np.ndarray
    change: np.ndarray

    def __post_init__(self) -> None:
        _frozen(self.neutral)
        _frozen(self.change)
        for ms in self.masks.values():
            for m in ms:
                _frozen(m)

    @property
    def id(self) -> str:
        """Session id."""
        return self.features.id

    @property
    def animal(self) -> str:
        """Animal of the session."""
        return self.features.animal

    @property
    def events(self) -> pd.DataFrame:
        """The session's events table."""
        return self.features.inputs.events

    def good_rows(self, mask: np.ndarray) -> np.ndarray:
        """Frame indices of ``mask`` without a quality flag, or all of ``mask`` if all have."""
        return good_or_all(mask, self.features.good)

    def hog_rows(self, index: np.ndarray) -> np.ndarray:
        """HOG rows at sorted frame indices, float32 (len(index), d)."""
        return read_rows(self.features.store, index)


@dataclass(frozen=True)
class SessionStrength:
    """Per-frame expression strength of one session (stage 5: strength).

    Attributes
    ----------
    neutral : SessionNeutral
    emotions : tuple of str
        Emotions in column order.
    strength : ndarray of float32, shape (n, len(emotions))
        Pearson r of every frame with the animal's prototype of each emotion (the pooled
        prototype where the animal has none).
    """

    neutral: SessionNeutral
    emotions: tuple[str, ...]
    strength: np.ndarray

    def __post_init__(self) -> None:
        _frozen(self.strength)

    @property
    def id(self) -> str:
        """Session id."""
        return self.neutral.id


def _sample_frames(video: Path, *, n: int = 300, step: int = 3) -> np.ndarray:
    frames = []
    for chunk in VideoReader(video, chunk_size=64).chunks(warn=False):
        frames.extend(chunk.frames)
        if len(frames) >= n:
            break
    return np.stack(frames[:n:step])


def validate_session(
    sc: SessionConfig, cfg: ProjectConfig, *, strict_emotions: bool
) -> SessionInputs:
    """Stage 1: check one session's inputs before any work (video, ROI, events, emotion map).

    Parameters
    ----------
    sc : SessionConfig
        The session's entry of the config.
    cfg : ProjectConfig
    strict_emotions : bool
        A trial_type missing from ``cfg.emotions`` is an InputError; otherwise it is its own
        label.

    Returns
    -------
    SessionInputs
        Without registration and face target (see :func:`register_sessions`,
        :func:`size_faces`).
    """
    sc, nwb = resolve_nwb(sc)
    info = probe_video(sc.video, fps=cfg.fps)
    if sc.roi == "auto":
        roi = propose_roi(_sample_frames(sc.video))
    elif sc.roi is None:
        roi = None
    else:
        roi = check_roi(sc.roi, (info.height, info.width), source=str(sc.video))
    laser = None
    if sc.opto is not None:
        laser = read_laser_table(sc.opto)
        if info.duration is not None:
            check_events_in_video(laser, duration=info.duration, path=sc.opto)
    nwb_events = nwb is not None and nwb.events
    if sc.events is None and not nwb_events and laser is None:
        raise InputError(
            f"session {sc.id}: no events file; give 'events: <file.tsv>' with the "
            "stimulus onsets (or make one with 'mouseface events from-video'), or 'opto: "
            "<laser.tsv>' for an optogenetics session"
        )
    if sc.events is None and not nwb_events:
        events = laser_events(laser, state=sc.state)
        events_file = sc.opto
    else:
        if sc.events is not None:
            events, events_file = read_events(sc.events), sc.events
            source = str(sc.events)
        else:
            events, events_file = nwb.session.events.copy(), nwb.path
            source = f"{nwb.path} ({nwb.session.events_table})"
        events["emotion"] = [
            trial_emotion(t, cfg.emotions, source=source, strict=strict_emotions)
            for t in events["trial_type"]
        ]
        if sc.state is not None:
            events["state"] = events["state"].where(events["state"].notna(), sc.state)
        if info.duration is not None:
            check_events_in_video(events, duration=info.duration, path=events_file)
    return SessionInputs(
        cfg=sc,
        events=events,
        info=info,
        roi=roi,
        video_sha256=sha256_file(sc.video),
        events_sha256=(
            nwb.sha256 if nwb is not None and events_file == nwb.path else sha256_file(events_file)
        ),
        laser=laser,
        nwb=nwb,
        pose_sha256=_check_pose(sc, cfg, info),
    )


def _check_pose(sc: SessionConfig, cfg: ProjectConfig, info: VideoInfo) -> str | None:
    """SHA256 of the session's pose file when keypoints are used, after checking it against the
    video's announced frame count and the keypoints the groups need (InputError)."""
    if "keypoints" not in cfg.features or sc.pose is None:
        return None
    p = sc.pose
    if not p.path.is_file():
        raise InputError(
            f"session {sc.id}: pose file {p.path} not found; check the session's 'pose' "
            "path in mouseface.yaml (relative paths start at the config's folder)"
        )
    check_pose(
        p.path,
        n_frames=info.frames_announced,
        groups=cfg.keypoints.groups,
        software=p.software,
        individual=p.individual,
        aliases=p.aliases,
        fps=p.fps,
    )
    return sha256_file(p.path)


def laser_events(laser: pd.DataFrame, *, state: str | None = None) -> pd.DataFrame:
    """A laser-epoch table as an events table (``trial_type`` = target, ``intensity`` = power,
    ``emotion`` None): the epochs' windows give an optogenetics session its baseline frames."""
    return pd.DataFrame(
        {
            "onset": laser["onset"].to_numpy(float),
            "duration": laser["duration"].to_numpy(float),
            "trial_type": laser["target"].astype(str).to_numpy(),
            "intensity": laser["power"].to_numpy(float),
            "state": state,
            "trial": np.arange(len(laser)),
            "emotion": None,
        }
    )


def _reference_face(s: SessionInputs, *, n: int = 32) -> np.ndarray:
    """Median of the session's first ``n`` face crops, uint8 (h, w): its reference face."""
    first = next(VideoReader(s.cfg.video, roi=s.roi, chunk_size=n).chunks(warn=False))
    return np.median(first.frames, axis=0).astype(np.uint8)


def register_sessions(sessions: Sequence[SessionInputs]) -> list[SessionInputs]:
    """Align each session's reference face to the first session of the same animal.

    The transform (translation by phase correlation, rotation and scale search; see
    :func:`mouseface.face.registration.estimate_transform`) is applied to every frame before
    HOG, as the paper aligned sessions recorded on different days.

    Returns
    -------
    list of SessionInputs
        ``sessions`` with ``registration`` set: the transform, ``reference_session`` and the
        reference crop ``shape`` (h, w).
    """
    from mouseface.face.registration import estimate_transform

    first: dict[str, SessionInputs] = {}
    faces: dict[str, np.ndarray] = {}

    def face(s: SessionInputs) -> np.ndarray:
        if s.cfg.id not in faces:
            faces[s.cfg.id] = _reference_face(s)
        return faces[s.cfg.id]

    out = []
    for s in sessions:
        ref = first.setdefault(s.cfg.animal, s)
        shape = list(face(ref).shape)
        if ref is s:
            reg = {
                "reference_session": s.cfg.id,
                "dy": 0.0,
                "dx": 0.0,
                "rotation": 0.0,
                "scale": 1.0,
                "score": 1.0,
                "shape": shape,
            }
        else:
            try:
                t = estimate_transform(face(s), face(ref))
            except InputError as exc:
                raise InputError(
                    f"session {s.cfg.id}: cannot register its face to session "
                    f"{ref.cfg.id} of the same animal: {exc}"
                ) from None
            reg = {"reference_session": ref.cfg.id, **t.as_dict(), "shape": shape}
        out.append(replace(s, registration=reg))
    return out


def size_faces(sessions: Sequence[SessionInputs], cfg: ProjectConfig) -> list[SessionInputs]:
    """One face size for every session (:func:`~mouseface.features.extract.common_face_size`).

    Returns
    -------
    list of SessionInputs
        ``sessions`` with ``face_target`` (h, w) set.
    """
    face_hw = common_face_size([s.crop_hw for s in sessions], cfg.hog.face_width)
    return [replace(s, face_target=face_hw) for s in sessions]


def _params_key(s: SessionInputs, cfg: ProjectConfig) -> str:
    params = {
        "video": s.video_sha256,
        "roi": s.roi,
        "hog": cfg.hog.model_dump(),
        "features": list(cfg.features),
        "flow": cfg.flow.model_dump() if "flow" in cfg.features else None,
        "keypoints": _keypoint_key(s, cfg),
        "stabilise": cfg.stabilise,
        "fps": cfg.fps,
        "registration": s.registration,
        "face": s.face_target,
    }
    if s.nwb is not None and s.nwb.frame_times_key is not None:
        params["frame_times"] = s.nwb.frame_times_key  # the store's times come from the NWB
    blob = json.dumps(params, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _keypoint_key(s: SessionInputs, cfg: ProjectConfig) -> dict | None:
    """What the keypoint features depend on: the pose file's hash and every keypoint option."""
    if "keypoints" not in cfg.features or s.cfg.pose is None:
        return None
    pose = s.cfg.pose.model_dump(mode="json", exclude={"path"})
    return {"pose": s.pose_sha256, **pose, **cfg.keypoints.model_dump(mode="json")}


def _write_keypoints(s: SessionInputs, cfg: ProjectConfig, store: Path) -> None:
    """Add the session's keypoint features to ``store`` (a store being written)."""
    p = s.cfg.pose
    if p is None:  # the config validation requires a pose file with keypoints
        raise InputError(f"session {s.cfg.id}: features include keypoints but it has no 'pose'")
    add_keypoints(
        store,
        p.path,
        feature_sets=cfg.features,
        weight=cfg.keypoints.weight,
        groups=cfg.keypoints.groups,
        software=p.software,
        individual=p.individual,
        confidence_threshold=p.confidence_threshold,
        max_gap=p.max_gap,
        fps=p.fps,
        aliases=p.aliases,
        attrs={"pose_sha256": s.pose_sha256},
    )


def _frame_transform(s: SessionInputs, cfg: ProjectConfig) -> Callable | None:
    """Chunk transform: optional stabilisation onto the session's reference, then registration."""
    from mouseface.face.registration import Transform, apply_transform
    from mouseface.face.stabilise import Stabiliser

    stab = Stabiliser(_reference_face(s)).transform if cfg.stabilise else None
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


def _reusable(store: Path, key: str) -> bool:
    """The store exists, opens and was made from the same inputs and parameters."""
    if not store.is_dir():
        return False
    try:
        return open_store(store).attrs.get("params_key") == key
    except (FileNotFoundError, ValueError, KeyError):
        return False


def _check_store_covers_events(s: SessionInputs, series: StoreSeries) -> None:
    """InputError if a trial starts after the last decoded frame (naming the decode break)."""
    try:
        check_events_in_video(s.events, duration=float(series.times[-1]), path=s.events_file)
    except InputError as exc:
        if series.decode_error is None:
            raise
        raise InputError(
            f"{s.cfg.video}: decoding stopped at frame {series.decode_error['frame']} "
            f"({series.decode_error['message']}), before the session's last trial: {exc}; "
            "re-export or re-copy the video"
        ) from None


def extract_session(
    s: SessionInputs,
    cfg: ProjectConfig,
    out: Path,
    *,
    resume: bool,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SessionFeatures:
    """Stage 2: stream the video into ``out/sessions/<id>/features.zarr`` (or reuse it).

    Parameters
    ----------
    s : SessionInputs
        Registered and face-sized (:func:`register_sessions`, :func:`size_faces`).
    cfg : ProjectConfig
    out : Path
        Output folder.
    resume : bool
        Reuse the store when its ``params_key`` matches (same video, ROI, feature sets and
        their parameters, pose file, registration, face size).
    n_jobs : int
        HOG threads.
    progress : callable, optional
        Called with the number of frames done.

    Returns
    -------
    SessionFeatures
    """
    store = out / "sessions" / s.cfg.id / "features.zarr"
    key = _params_key(s, cfg)
    resumed = resume and _reusable(store, key)
    if not resumed:
        hog_params = cfg.hog.kernel_params()
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
                feature_sets=[x for x in cfg.features if x in VIDEO_FEATURE_SETS],
                flow_params=cfg.flow.model_dump(),
                stabiliser=_frame_transform(s, cfg),
                chunk_size=cfg.chunk_size,
                n_jobs=n_jobs,
                fps=cfg.fps,
                progress=progress,
                crop_shape=crop_shape,
                attrs=attrs,
            )
            if s.nwb is not None and s.nwb.video:  # frame times from the NWB ImageSeries
                write_nwb_frame_times(tmp, s.nwb, video=s.cfg.video)
            # before the new store replaces an earlier one: a video that broke before its
            # last trial fails here and leaves the earlier store as it was
            _check_store_covers_events(s, read_series(tmp))
            if "keypoints" in cfg.features:
                # same rule: a pose file that does not fit the video leaves the old store
                _write_keypoints(s, cfg, tmp)
    series = read_series(store)
    if resumed:
        _check_store_covers_events(s, series)
        if progress is not None:
            progress(len(series.times))
    return SessionFeatures(
        inputs=s,
        store=store,
        times=series.times,
        motion=series.motion,
        dark=series.dark,
        saturated=series.saturated,
        outlier=motion_outliers(series.motion),
        good=~(series.dark | series.saturated),
        face_size=series.face_size,
        decode_error=series.decode_error,
        resumed=resumed,
    )


def neutral_session(f: SessionFeatures, cfg: ProjectConfig) -> SessionNeutral:
    """Stage 3: trial windows, neutral prototype (good baseline frames), per-frame ``change``."""
    n = len(f.times)
    masks = window_masks(
        f.times, f.events, windows=cfg.windows.model_dump(), source=f.inputs.events_file
    )
    base = np.zeros(n, dtype=bool)
    for m in masks["baseline"]:
        base |= m
    neutral = session_neutral(f.store, base, f.good)
    change = np.empty(n, dtype=np.float32)
    for i, block in iter_hog(f.store):
        change[i : i + len(block)] = 1.0 - pearson_rows(block, neutral)
    return SessionNeutral(features=f, masks=masks, neutral=neutral, change=change)


def session_strength(
    s: SessionNeutral, emotions: Sequence[str], prototypes: np.ndarray
) -> SessionStrength:
    """Stage 5: Pearson r of every frame with each emotion's prototype.

    Parameters
    ----------
    s : SessionNeutral
    emotions : sequence of str
        Emotion names, in the order of ``prototypes``.
    prototypes : ndarray, shape (len(emotions), d)
        The prototypes this session's animal is read out with.

    Returns
    -------
    SessionStrength
    """
    f = s.features
    strength = np.empty((len(f.times), len(emotions)), dtype=np.float32)
    for i, block in iter_hog(f.store):
        strength[i : i + len(block)] = pearson_matrix(block, prototypes)
    return SessionStrength(neutral=s, emotions=tuple(emotions), strength=strength)


def frame_table(st: SessionStrength) -> pd.DataFrame:
    """Per-frame table of a session (``sessions/<id>/frames.parquet``).

    Columns: frame, time (s), motion, dark, saturated, motion_outlier, good, change and one
    ``strength_<emotion>`` per emotion.
    """
    s = st.neutral
    f = s.features
    frames = pd.DataFrame(
        {
            "frame": np.arange(len(f.times)),
            "time": f.times,
            "motion": f.motion,
            "dark": f.dark,
            "saturated": f.saturated,
            "motion_outlier": f.outlier,
            "good": f.good,
            "change": s.change,
        }
    )
    for j, e in enumerate(st.emotions):
        frames[f"strength_{e}"] = st.strength[:, j]
    return frames


def write_frames(st: SessionStrength, out: Path) -> Path:
    """Write :func:`frame_table` to ``out/sessions/<id>/frames.parquet`` (atomically)."""
    path = out / "sessions" / st.id / "frames.parquet"
    write_parquet_atomic(path, frame_table(st))
    return path


def trial_rows(st: SessionStrength) -> pd.DataFrame:
    """Stage 6: the session's rows of the trial table, with session, animal and emotion columns.

    See :func:`mouseface.expression.trials.trial_table` for the other columns.
    """
    s = st.neutral
    f = s.features
    table = trial_table(
        f.events,
        f.times,
        s.change,
        {e: st.strength[:, j] for j, e in enumerate(st.emotions)},
        good=f.good,
        still=~f.outlier,
        masks=s.masks,
    )
    table.insert(0, "animal", f.animal)
    table.insert(0, "session", f.id)
    table.insert(4, "emotion", f.events["emotion"].to_numpy())
    return table
