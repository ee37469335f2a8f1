"""Project configuration (``mouseface.yaml``), validated with pydantic.

Unknown keys are errors with a "did you mean" hint; relative paths resolve against the config's
folder. Minimal example::

    sessions:
      - {id: t00, animal: m1, video: videos/t00.mp4, events: events/t00.tsv, roi: [0, 15, 120, 100]}
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
    "NeuralConfig",
    "Windows",
    "SessionConfig",
    "ProjectConfig",
    "load_config",
    "config_from_dict",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class HogParams(BaseModel):
    """HOG parameters (the paper's by default) and the standard face size.

    ``face_width``: every face crop is resized (aspect kept) to this width in pixels before HOG,
    so that 32-px cells cover the same fraction of the face whatever the camera distance
    (the paper's crops were a few hundred pixels wide). ``None`` keeps the native crop size.
    """

    model_config = _STRICT
    orientations: int = Field(8, ge=2, le=32)
    pixels_per_cell: tuple[int, int] = (32, 32)
    cells_per_block: tuple[int, int] = (1, 1)
    block_norm: Literal["L1", "L1-sqrt", "L2", "L2-Hys"] = "L2-Hys"
    transform_sqrt: bool = True
    face_width: int | None = Field(320, ge=16, le=4096)


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
    """

    model_config = _STRICT
    id: str = Field(min_length=1)
    animal: str = Field(min_length=1)
    video: Path
    events: Path | None = None
    roi: tuple[int, int, int, int] | Literal["auto"] | None = None
    state: str | None = None
    neural: NeuralConfig | None = None
    opto: Path | None = None
    subject: str | None = None
    """the real individual behind an animal; animals of one subject are held out together in
    cross-validation; defaults to animal"""

    @field_validator("id")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        if any(ch in v for ch in "/\\:") or v.startswith("."):
            raise ValueError(f"session id {v!r} is used as a folder name: no / \\ : or leading dot")
        return v


class ProjectConfig(BaseModel):
    """A whole project: sessions, stimulus -> emotion map, windows and parameters."""

    model_config = _STRICT
    sessions: list[SessionConfig] = Field(min_length=1)
    emotions: dict[str, str] = Field(default_factory=dict)
    windows: Windows = Windows()
    hog: HogParams = HogParams()
    stabilise: bool = False
    align_sessions: bool = False
    prototype_frames: int = Field(10, ge=1)
    decoders: tuple[str, ...] = ("prototype", "forest")
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
        update = {k: _resolve(getattr(s, k), base) for k in ("video", "events", "opto")}
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
