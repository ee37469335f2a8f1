"""Project configuration (``mouseface.yaml``), validated with pydantic.

Unknown keys are errors with a "did you mean" hint; relative paths resolve against the config's
folder. Minimal example::

    sessions:
      - {id: t00, animal: m1, video: videos/t00.mp4, events: events/t00.tsv, roi: [0, 15, 120, 100]}
      - {id: t01, animal: m1, nwb: nwb/t01.nwb}   # video, frame times, events from an NWB file
    emotions: {shock: pain}          # trial_type -> emotion
    windows: {baseline: [-2, 0], response: [0, 2]}
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mouseface.errors import InputError

__all__ = [
    "HogParams",
    "FlowParams",
    "KeypointParams",
    "KEYPOINT_GROUPS",
    "PoseConfig",
    "FEATURE_SETS",
    "PAPER_HOG",
    "NeuralConfig",
    "Windows",
    "SessionConfig",
    "ProjectConfig",
    "load_config",
    "config_from_dict",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


#: The paper's HOG (Dolensek et al. 2020): 8 orientations, 32-px cells, 1x1 blocks, L2-Hys,
#: square-root gamma, on the native face crop (theirs were ~900x475 px: ~28x15 cells).
PAPER_HOG: dict[str, Any] = {
    "orientations": 8,
    "pixels_per_cell": (32, 32),
    "cells_per_block": (1, 1),
    "block_norm": "L2-Hys",
    "transform_sqrt": True,
    "face_width": None,
}


class HogParams(BaseModel):
    """HOG parameters and the standard face size.

    ``face_width``: every face crop is resized (aspect kept) to this width in pixels before HOG,
    so that a cell covers the same fraction of the face whatever the camera distance.
    The default, 16-px cells on a 320-px face (20 cells across), was chosen by cross-validation
    (``docs/validation.md``); the paper had ~28 cells across its ~900-px crops, our 320-px face
    with 32-px cells only 10. ``preset: paper`` sets the paper's exact HOG (:data:`PAPER_HOG`:
    32-px cells on the native crop; set ``face_width`` beside it when sessions' crops differ in
    size); keys given beside a preset override it.
    """

    model_config = _STRICT
    preset: Literal["paper"] | None = None
    orientations: int = Field(8, ge=2, le=32)
    pixels_per_cell: tuple[int, int] = (16, 16)
    cells_per_block: tuple[int, int] = (1, 1)
    block_norm: Literal["L1", "L1-sqrt", "L2", "L2-Hys"] = "L2-Hys"
    transform_sqrt: bool = True
    face_width: int | None = Field(320, ge=16, le=4096)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, v: Any) -> Any:
        if isinstance(v, dict) and v.get("preset") == "paper":
            return {**PAPER_HOG, **v}
        return v

    def kernel_params(self) -> dict[str, Any]:
        """Keyword arguments of :func:`mouseface.features.hog.hog` (no preset, no face width)."""
        return self.model_dump(exclude={"preset", "face_width"})


class FlowParams(BaseModel):
    """Cell flow (:mod:`mouseface.features.flow`): per-cell displacement against a reference.

    ``cell``: cell size in px of the resized face (``hog.face_width``); ``sigma``: Gaussian
    smoothing (px) of both images before the dense (DIS) optical flow; ``reference_frames``: the
    reference face is the median of the session's first this-many frames; ``head``: keep the
    head's own movement in the flow (``false``, the default, subtracts each frame's best affine
    fit of the cells' flow: shift, roll, zoom); ``weight``: factor on
    the flow (px) when it is stacked beside other feature sets, so that each set carries a
    comparable share of a frame's change (HOG cells are unit vectors; 0.05 px^-1 puts a 2-px
    movement of a cell at the size of a strong HOG change; chosen in ``docs/validation.md``).
    """

    model_config = _STRICT
    cell: int = Field(16, ge=4, le=256)
    sigma: float = Field(1.5, ge=0, le=20)
    reference_frames: int = Field(64, ge=1)
    head: bool = False
    weight: float = Field(0.05, gt=0)


#: Keypoint feature groups (:data:`mouseface.features.keypoints.FEATURE_GROUPS`; io/ does not
#: import features/, a unit test holds the two lists equal).
KEYPOINT_GROUPS = ("ear", "eye", "nose", "mouth", "whisker_pad")


class KeypointParams(BaseModel):
    """Keypoint features (:mod:`mouseface.features.keypoints`) from the sessions' pose files.

    ``groups``: feature groups (ear angle and ear-eye distance, eye opening, nose, mouth and
    whisker-pad position, all in head units). ``weight``: factor on the keypoint features when
    they are stacked beside other feature sets. The default, 8, gives keypoints the same share
    of a frame's change as HOG: on development data (synthetic real faces, seed 1) the mean
    squared deviation from the neutral face over response frames was 3.20 for HOG (default
    parameters) and 0.0496 for keypoints, sqrt(3.20 / 0.0496) = 8.0 (``docs/features.md``;
    it grows with the number of HOG cells: recompute it with ``docs/scripts/feature_sets.py
    --energy`` when the HOG differs).
    """

    model_config = _STRICT
    groups: tuple[Literal["ear", "eye", "nose", "mouth", "whisker_pad"], ...] = Field(
        KEYPOINT_GROUPS, min_length=1
    )
    weight: float = Field(8.0, gt=0)

    @field_validator("groups")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"keypoints.groups lists a group twice: {list(v)}")
        return v


class PoseConfig(BaseModel):
    """A session's pose-estimation file (DeepLabCut, SLEAP or Lightning Pose, read with
    ``movement``; :func:`mouseface.io.pose.read_pose`).

    ``path``: the file (one row per video frame); ``software``: ``DeepLabCut``, ``SLEAP`` or
    ``LightningPose`` when the file type does not tell; ``individual``: the animal in a
    multi-animal file; ``confidence_threshold``: points below it are dropped and gaps of up to
    ``max_gap`` frames interpolated; ``fps``: the pose file's nominal frame rate, checked against
    the video's timestamps (none: not checked, the video's times are used); ``aliases``:
    ``{name in the file: our name}`` (our names: nose, eye_front, eye_back, eye_top, eye_bottom,
    ear_base, ear_tip, mouth, whisker_pad).
    """

    model_config = _STRICT
    path: Path
    software: str | None = None
    individual: str | None = None
    confidence_threshold: float | None = Field(0.6, ge=0, le=1)
    max_gap: int | None = Field(5, ge=0)
    fps: float | None = Field(None, gt=0)
    aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _path_only(cls, v: Any) -> Any:
        return {"path": v} if isinstance(v, str | Path) else v


#: Feature sets a run can compute: ``hog`` and ``flow`` from the video, ``keypoints`` from a
#: session's pose file.
FEATURE_SETS = ("hog", "flow", "keypoints")


class Windows(BaseModel):
    """Trial windows in seconds relative to each stimulus onset: ``[start, end)``."""

    model_config = _STRICT
    baseline: tuple[float, float] = (-2.0, 0.0)
    response: tuple[float, float] = (0.0, 2.0)

    @field_validator("baseline", "response")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not v[0] < v[1]:
            raise ValueError(f"window start must be before its end, got {list(v)}")
        return v


class NeuralConfig(BaseModel):
    """A session's neural recording and how its clock maps onto the video's.

    ``path``: a suite2p folder (``plane*/`` inside), an NWB file or a table (CSV/TSV/parquet,
    neurons as columns and a ``time`` column); ``format`` names the reader when the path does not
    tell (``suite2p``, ``nwb``, ``table``). The imaging clock: a sync-pulse table ``sync`` (TTL
    edge times of both clocks, linear fit), or ``rate`` (Hz) and ``offset`` (s, video time of the
    first imaging sample), or neither (the file's timestamps are already on the video clock).
    Raw fluorescence is turned into dF/F with neuropil coefficient ``neuropil`` and a running
    ``baseline_percentile`` baseline over ``baseline_window`` seconds (default 300: longer than
    a minutes-long state such as malaise, which a shorter baseline would follow and remove).
    Each face trace is convolved with the indicator's decay ``indicator_decay`` (s; 0: none)
    and neurons and face traces are high-passed over ``drift_window`` seconds (at least 10 x
    the face trace's decorrelation time; null: no high-pass) before they are correlated.
    """

    model_config = _STRICT
    path: Path
    format: Literal["suite2p", "nwb", "table"] | None = None
    sync: Path | None = None
    rate: float | None = Field(None, gt=0)
    offset: float | None = None
    neuropil: float = Field(0.7, ge=0, le=2)
    baseline_window: float = Field(300.0, gt=0)
    baseline_percentile: float = Field(8.0, gt=0, lt=100)
    indicator_decay: float = Field(1.0, ge=0)
    drift_window: float | None = Field(60.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _path_only(cls, v: Any) -> Any:
        return {"path": v} if isinstance(v, str | Path) else v


class SessionConfig(BaseModel):
    """One recording session: a video of one animal and its events table.

    ``neural``: the session's neural recording (:class:`NeuralConfig`, or just its path).
    ``opto``: a laser-epoch table (onset, duration, frequency, power, target; sham epochs have
    target ``sham``); a session with ``opto`` and no ``events`` is an optogenetics session: its
    epochs are not emotion trials, the face is read with its animal's prototypes and the
    stimulation's effect goes to ``opto.parquet``.

    ``nwb``: an NWB file to read the session from, instead of (or beside) ``video`` and
    ``events`` (:func:`mouseface.io.nwb_input.read_nwb_session`): the video is the external file
    of its ImageSeries (``nwb_video`` names the series when there are several) and its frame
    times are the series' timestamps (or ``starting_time`` and ``rate``); the stimulus events
    are its EventsTable or TimeIntervals table (``nwb_events`` names it; ``nwb_trial_type`` the
    column with the stimulus names, default ``trial_type``); and when it holds optical
    physiology and the session has no ``neural``, that is the session's neural recording (its
    times moved onto the video clock: NWB time minus the NWB time of the first video frame).
    An explicit ``video`` or ``events`` wins over the NWB's (an explicit ``video`` keeps its own
    frame times). A session needs ``video`` or ``nwb``.

    ``pose``: the session's pose file (:class:`PoseConfig`, or just its path), needed when the
    project's ``features`` include ``keypoints``.
    """

    model_config = _STRICT
    id: str = Field(min_length=1)
    animal: str = Field(min_length=1)
    video: Path | None = None
    events: Path | None = None
    nwb: Path | None = None
    nwb_video: str | None = None
    """name of the ImageSeries with the face video (needed when the NWB file has several)"""
    nwb_events: str | None = None
    """name of the events table: an EventsTable in ``events/`` or a TimeIntervals table
    (``trials`` for the trials table); needed when the NWB file has several"""
    nwb_trial_type: str = "trial_type"
    """column of the NWB events table with the stimulus names"""
    roi: tuple[int, int, int, int] | Literal["auto"] | None = None
    state: str | None = None
    neural: NeuralConfig | None = None
    opto: Path | None = None
    pose: PoseConfig | None = None
    subject: str | None = None
    """the real individual behind an animal; animals of one subject are held out together in
    cross-validation; defaults to animal"""

    @field_validator("id")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        if any(ch in v for ch in "/\\:") or v.startswith("."):
            raise ValueError(f"session id {v!r} is used as a folder name: no / \\ : or leading dot")
        return v

    @model_validator(mode="after")
    def _video_or_nwb(self) -> SessionConfig:
        if self.video is None and self.nwb is None:
            raise ValueError(
                f"session {self.id} has neither 'video' nor 'nwb'; give 'video: <file>' (and "
                "'events: <file.tsv>') or 'nwb: <file.nwb>' whose ImageSeries names the video"
            )
        if self.nwb is None:
            given = [k for k in ("nwb_video", "nwb_events") if getattr(self, k) is not None]
            if self.nwb_trial_type != "trial_type":
                given.append("nwb_trial_type")
            if given:
                raise ValueError(
                    f"session {self.id} gives {', '.join(given)} but no 'nwb' file; add "
                    "'nwb: <file.nwb>' or drop them"
                )
        return self


class ProjectConfig(BaseModel):
    """A whole project: sessions, stimulus -> emotion map, windows and parameters."""

    model_config = _STRICT
    sessions: list[SessionConfig] = Field(min_length=1)
    emotions: dict[str, str] = Field(default_factory=dict)
    windows: Windows = Windows()
    features: tuple[Literal["hog", "flow", "keypoints"], ...] = Field(
        ("hog", "flow"),
        min_length=1,
        description="feature sets stacked into each frame's feature vector, in this order",
    )
    hog: HogParams = HogParams()
    flow: FlowParams = FlowParams()
    keypoints: KeypointParams = KeypointParams()
    stabilise: bool = False
    align_sessions: bool = False
    prototype_frames: int = Field(10, ge=1)
    decoders: tuple[str, ...] = ("logistic", "prototype")
    chunk_size: int = Field(256, ge=1)
    n_jobs: int = Field(-1, description="HOG threads per session (-1 = all cores)")
    analyses: dict[str, dict] = Field(
        default_factory=dict,
        description="analysis name -> options; empty = run every analysis with defaults",
    )
    fps: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _unique_ids(self) -> ProjectConfig:
        seen: set[str] = set()
        for s in self.sessions:
            if s.id in seen:
                raise ValueError(f"session id {s.id!r} appears twice; ids must be unique")
            seen.add(s.id)
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features lists a set twice: {list(self.features)}")
        if tuple(self.features) == ("flow",):
            raise ValueError(
                "flow alone cannot be read out: change and strength are correlations with the "
                "neutral face and the prototypes, and the neutral flow is ~0 (on the DER mosaics "
                "flow alone gave Spearman(intensity, response) of -0.2 to -0.3); use "
                "features: [hog, flow]"
            )
        if "keypoints" in self.features:
            lacking = [s.id for s in self.sessions if s.pose is None]
            if lacking:
                raise ValueError(
                    f"features include keypoints but session(s) {', '.join(lacking)} have no "
                    "pose file; add 'pose: <file.h5>' (DeepLabCut, SLEAP or Lightning Pose) to "
                    "each of them, or remove keypoints from 'features'"
                )
        if "neutral" in self.emotions.values():
            raise ValueError("'neutral' is the baseline class and cannot be a stimulus's emotion")
        return self


def _hint(loc: tuple, allowed: list[str]) -> str:
    key = str(loc[-1])
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"


def _allowed_keys(loc: tuple) -> list[str]:
    model: Any = ProjectConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        inner = getattr(ann, "__args__", (ann,))
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def _format_error(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key '{where}'{_hint(loc, _allowed_keys(loc))}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"'{where}': {msg} (got {err.get('input')!r})")
    return f"{source}: invalid config: " + "; ".join(lines)


def _resolve(p: Path | None, base: Path) -> Path | None:
    if p is None:
        return None
    p = Path(p).expanduser()
    return p if p.is_absolute() else (base / p)


def config_from_dict(
    data: dict, *, base: str | Path = ".", source: str = "config"
) -> ProjectConfig:
    """Validate a config mapping; relative paths resolve against ``base``."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: the config must be a mapping with a 'sessions' list")
    try:
        cfg = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(_format_error(exc, source)) from None
    base = Path(base)
    sessions = []
    for s in cfg.sessions:
        update = {k: _resolve(getattr(s, k), base) for k in ("video", "events", "opto", "nwb")}
        if s.pose is not None:
            update["pose"] = s.pose.model_copy(update={"path": _resolve(s.pose.path, base)})
        if s.neural is not None:
            update["neural"] = s.neural.model_copy(
                update={k: _resolve(getattr(s.neural, k), base) for k in ("path", "sync")}
            )
        sessions.append(s.model_copy(update=update))
    return cfg.model_copy(update={"sessions": sessions})


def load_config(path: str | Path) -> ProjectConfig:
    """Read and validate ``mouseface.yaml``.

    Raises
    ------
    InputError
        Missing file, YAML syntax error, unknown key, wrong type; the message names the key.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    return config_from_dict(data, base=path.parent.resolve(), source=str(path))


def trial_emotion(trial_type: str, emotions: dict[str, str], *, source: str, strict: bool) -> str:
    """Map a trial_type to its emotion; with ``strict`` an unmapped type is an InputError."""
    if trial_type in emotions:
        return emotions[trial_type]
    if strict:
        raise InputError(
            f"{source}: trial_type '{trial_type}' has no emotion; add it to the config's "
            f"'emotions' map, e.g. emotions: {{{trial_type}: pain}}"
        )
    return trial_type
