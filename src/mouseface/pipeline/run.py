"""config -> outputs: the one place that wires io, face, features, expression and report together.

Stages (each session's feature extraction is resumable; the rest is recomputed, it is fast):
1. validate every input (videos, ROIs, events, emotion map) before anything is written;
2. per session: stream the video into ``sessions/<id>/features.zarr`` (HOG, motion, flags);
3. per session: neutral prototype from baseline frames, per-frame ``change``;
4. emotion prototypes per animal (and pooled) from the stimulus-window frames least like neutral;
5. per session: ``strength_<emotion>``, ``frames.parquet``; trial table;
6. decoders cross-validated by animal; ``trials.parquet``, ``prototypes.nc``,
   ``decoding.parquet``, ``provenance.json``, ``report.html``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mouseface import __version__
from mouseface.features.extract import common_face_size
from mouseface.io.config import ProjectConfig, config_from_dict
from mouseface.io.outputs import write_json_atomic, write_parquet_atomic
from mouseface.pipeline.project import decoding_dataset, write_prototypes
from mouseface.pipeline.session import (
    SessionData,
    collect_candidates,
    extract_session,
    prepare_session,
    register_sessions,
    session_strengths,
    validate_session,
)

__all__ = ["RunResult", "run_project", "analyze_video", "Progress"]

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, advance, total)``: called with ``advance=0`` to start a stage of ``total``
steps (None if unknown), then with the number of steps done since the last call."""


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    out : Path
        Output folder.
    trials : DataFrame
        The trial table (also in ``trials.parquet``).
    decoding : DataFrame
        Tidy decoding table (empty when decoding was not possible).
    accuracy : dict
        ``{(decoder, level): mean leave-one-animal-out accuracy}``.
    notes : list of str
        Warnings worth showing (skipped decoding, decode errors).
    report : Path or None
    """

    out: Path
    trials: pd.DataFrame
    decoding: pd.DataFrame
    accuracy: dict = field(default_factory=dict)
    balanced_accuracy: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    analyses: dict = field(default_factory=dict)
    report: Path | None = None


def _noop(stage: str, advance: int, total: int | None) -> None:
    return None


def _extract_all(
    sessions: list[SessionData],
    cfg: ProjectConfig,
    out: Path,
    *,
    jobs: int,
    resume: bool,
    scheduler: str | None,
    progress: Progress,
) -> None:
    total = sum(s.n_frames_hint for s in sessions) or None
    progress("features", 0, total)
    if jobs <= 1 and scheduler is None:
        for s in sessions:
            extract_session(
                s, cfg, out, resume=resume, progress=lambda n: progress("features", n, total)
            )
        return
    from mouseface.pipeline.parallel import map_sessions

    done = map_sessions(
        sessions,
        cfg,
        out,
        jobs=jobs,
        resume=resume,
        scheduler=scheduler,
        on_done=lambda s: progress("features", s.n_frames_hint, total),
    )
    for s, d in zip(sessions, done, strict=True):
        s.__dict__.update(d.__dict__)


def run_project(
    cfg: ProjectConfig,
    out: str | Path,
    *,
    jobs: int = 1,
    resume: bool = False,
    scheduler: str | None = None,
    strict_emotions: bool = True,
    analyses: bool = True,
    report: bool = True,
    progress: Progress | None = None,
) -> RunResult:
    """Run the whole method on every session of a project.

    Parameters
    ----------
    cfg : ProjectConfig
        Validated configuration (see :func:`mouseface.io.config.load_config`).
    out : str or Path
        Output folder (created; existing outputs are replaced atomically, one file at a time).
    jobs : int
        Sessions processed in parallel (processes); 1 = in this process.
    resume : bool
        Reuse each session's ``features.zarr`` when its inputs and parameters are unchanged.
    scheduler : str, optional
        Address of an existing dask.distributed scheduler to run the sessions on.
    strict_emotions : bool
        A trial_type missing from ``cfg.emotions`` is an error (``run``); otherwise the
        trial_type is its own label (``analyze``).
    analyses : bool
        Run the science analyses (:mod:`mouseface.analyses`) into ``analyses/``.
    report : bool
        Write ``report.html``.
    progress : callable, optional
        See :data:`Progress`.

    Returns
    -------
    RunResult
    """
    progress = progress or _noop
    out = Path(out)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    progress("validate", 0, len(cfg.sessions))
    sessions = []
    for sc in cfg.sessions:
        sessions.append(validate_session(sc, cfg, strict_emotions=strict_emotions))
        progress("validate", 1, len(cfg.sessions))
    if cfg.align_sessions:
        progress("register", 0, None)
        register_sessions(sessions)
    face_hw = common_face_size([s.crop_hw for s in sessions], cfg.hog.face_width)
    for s in sessions:
        s.face_target = face_hw
    out.mkdir(parents=True, exist_ok=True)
    timings["validate_s"] = time.perf_counter() - t_start

    t0 = time.perf_counter()
    _extract_all(
        sessions, cfg, out, jobs=jobs, resume=resume, scheduler=scheduler, progress=progress
    )
    timings["features_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress("prototypes", 0, len(sessions))
    for s in sessions:
        prepare_session(s, cfg)
        progress("prototypes", 1, len(sessions))
    cands = collect_candidates(sessions, cfg)
    protos = write_prototypes(sessions, cands, cfg, out)
    progress("strength", 0, len(sessions))
    trial_tables = []
    for s in sessions:
        trial_tables.append(session_strengths(s, protos, cfg, out))
        progress("strength", 1, len(sessions))
    trials = pd.concat(trial_tables, ignore_index=True)
    timings["expression_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress("decoding", 0, None)
    decoding, trials, notes = decoding_dataset(sessions, trials, cfg)
    timings["decoding_s"] = time.perf_counter() - t0
    notes += [
        f"{s.cfg.id}: decoding stopped at frame {s.decode_error['frame']} "
        f"({s.decode_error['message']})"
        for s in sessions
        if s.decode_error
    ]
    write_parquet_atomic(out / "trials.parquet", trials)
    write_parquet_atomic(out / "decoding.parquet", decoding)
    timings["total_s"] = time.perf_counter() - t_start
    _write_provenance(out, cfg, sessions, notes, timings)
    result = RunResult(out=out, trials=trials, decoding=decoding, notes=notes)
    if not decoding.empty:
        acc = decoding[decoding["metric"].isin(["accuracy", "balanced_accuracy"])]
        means = acc.groupby(["metric", "decoder", "level"])["value"].mean()
        result.accuracy = {k[1:]: float(v) for k, v in means.items() if k[0] == "accuracy"}
        result.balanced_accuracy = {
            k[1:]: float(v) for k, v in means.items() if k[0] == "balanced_accuracy"
        }
    if analyses:
        from mouseface.analyses import run_analyses

        t0 = time.perf_counter()
        for name, res in run_analyses(out, progress=progress).items():
            result.notes += res.notes
            result.analyses[name] = res.summary
        timings["analyses_s"] = time.perf_counter() - t0
    if report:
        from mouseface.report import build_report

        progress("report", 0, 1)
        result.report = build_report(out)
        progress("report", 1, 1)
    return result


def _write_provenance(
    out: Path,
    cfg: ProjectConfig,
    sessions: list[SessionData],
    notes: list[str],
    timings: dict[str, float],
) -> None:
    inputs = {}
    for s in sessions:
        inputs[str(s.cfg.video)] = s.video_sha256
        if s.cfg.events is not None:
            inputs[str(s.cfg.events)] = s.events_sha256
    face_w = cfg.hog.face_width
    prov = {
        "package": "mouseface",
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": cfg.model_dump(mode="json"),
        "inputs": inputs,
        "parameters": {
            "hog": cfg.hog.model_dump(mode="json"),
            "face_size_rule": (
                f"every face crop resized to {sessions[0].face_target[1]}x"
                f"{sessions[0].face_target[0]} px (width {face_w}, height from the median crop "
                "aspect ratio) before HOG, so 32-px cells cover the same part of every face"
                if face_w
                else "HOG on the native crop size"
            ),
            "prototype_frames": cfg.prototype_frames,
            "change": "1 - Pearson r with the session's neutral prototype (baseline frames)",
            "strength": "Pearson r with the animal's emotion prototype (pooled if it has none)",
            "trial_strength": "response-window mean minus baseline-window mean",
        },
        "sessions": {s.cfg.id: s.summary() for s in sessions},
        "warnings": notes,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    write_json_atomic(out / "provenance.json", prov)


def analyze_video(
    video: str | Path,
    events: str | Path,
    out: str | Path,
    *,
    roi: tuple[int, int, int, int] | str | None = None,
    animal: str = "animal",
    analyses: bool = False,
    report: bool = True,
    progress: Progress | None = None,
    **params: object,
) -> RunResult:
    """Run the method on one video and its events table, with no config file.

    Each trial_type is its own label (no emotion map). The science analyses (which compare
    animals, states and intensities) are off unless ``analyses=True``. ``params`` are extra
    config keys (e.g. ``hog={"face_width": 384}``, ``windows={...}``, ``stabilise=True``).
    """
    video = Path(video)
    sid = video.stem.replace(".", "_") or "session"
    data = {
        "sessions": [
            {
                "id": sid,
                "animal": animal,
                "video": str(video.resolve()),
                "events": str(Path(events).resolve()),
                "roi": roi,
            }
        ],
        **params,
    }
    cfg = config_from_dict(data, source="analyze options")
    return run_project(
        cfg, out, strict_emotions=False, analyses=analyses, report=report, progress=progress
    )
