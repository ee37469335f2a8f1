"""config -> outputs: the method, one stage after another, each passing an immutable value on.

:func:`run_project` reads top to bottom as the method:

1. validate every input (videos, ROIs, events, emotion map) before anything is written, register
   each animal's sessions and choose one face size -> :class:`SessionInputs` per session;
2. features: stream each video into ``sessions/<id>/features.zarr`` (HOG, motion, flags;
   resumable, in parallel with ``jobs``/``scheduler``) -> :class:`SessionFeatures`; a session
   that fails here (its worker died, a write failed, its video broke) is a
   :class:`~mouseface.pipeline.parallel.SessionFailure` and the others go on;
3. neutral: trial windows, neutral prototype from the good baseline frames, per-frame ``change``
   -> :class:`SessionNeutral`;
4. prototypes per animal (and pooled) from the response-window frames least like neutral ->
   :class:`~mouseface.pipeline.project.Prototypes`, ``prototypes.nc``;
5. strength: Pearson r of every frame with its animal's prototypes -> :class:`SessionStrength`,
   ``sessions/<id>/frames.parquet``;
6. trials: one row per trial (``trials.parquet``);
7. decoding: decoders cross-validated by animal (``decoding.parquet``, trial predictions);
8. neurons and light: sessions with a neural recording -> ``neurons.parquet``; sessions with a
   laser table -> ``opto.parquet`` (:mod:`mouseface.pipeline.neural_steps`); an
   optogenetics-only session (``opto``, no ``events``) has no emotion trials: it gets features,
   neutral face and strength, but gives no prototype, trial or decoder training frame;
9. analyses (``analyses/``) and 10. report (``report.html``); ``provenance.json`` records inputs,
   parameters, timings and the failures.

A run whose sessions all made it is complete; one with failures still writes the tables of the
sessions that made it (``RunResult.failures``, ``provenance.json["failures"]``); one where no
session made it raises (:class:`RunFailedError`, or the InputError when every failure was bad input)
and writes no project table. Files are written atomically, so a run killed at any point leaves
every earlier output whole, and ``resume=True`` picks up the finished sessions.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mouseface import __version__
from mouseface.errors import InputError
from mouseface.io.config import ProjectConfig, config_from_dict
from mouseface.io.outputs import write_json_atomic, write_parquet_atomic
from mouseface.pipeline.neural_steps import (
    neural_session,
    opto_session,
    write_neural,
    write_opto,
)
from mouseface.pipeline.parallel import (
    SessionFailure,
    connect_scheduler,
    dashboard_link,
    decode_failures,
    extract_sessions,
)
from mouseface.pipeline.project import (
    Prototypes,
    build_prototypes,
    decoding_dataset,
    write_prototypes,
)
from mouseface.pipeline.session import (
    SessionFeatures,
    SessionInputs,
    SessionNeutral,
    SessionStrength,
    neutral_session,
    register_sessions,
    session_strength,
    size_faces,
    trial_rows,
    validate_session,
    write_frames,
)

__all__ = ["RunResult", "RunFailedError", "run_project", "analyze_video", "Progress"]

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, advance, total)``: called with ``advance=0`` to start a stage of ``total``
steps (None if unknown), then with the number of steps done since the last call. Besides the
run's stages (``"validate"``, ``"features"`` (frames of all sessions), ``"prototypes"``, ...)
each session's extraction is a stage ``"session <id>"`` counting its frames."""


class RunFailedError(RuntimeError):
    """No session made it through feature extraction; nothing project-wide was written.

    Attributes
    ----------
    failures : list of SessionFailure
        One per session.
    """

    def __init__(self, failures: list[SessionFailure]) -> None:
        self.failures = failures
        lines = "\n".join(f"  {f}" for f in failures)
        super().__init__(f"no session could be processed:\n{lines}")


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
        Warnings worth showing (skipped decoding, decode errors, sessions left out).
    failures : list of SessionFailure
        Sessions that failed in feature extraction (empty for a complete run).
    report : Path or None
    """

    out: Path
    trials: pd.DataFrame
    decoding: pd.DataFrame
    accuracy: dict = field(default_factory=dict)
    balanced_accuracy: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    analyses: dict = field(default_factory=dict)
    failures: list[SessionFailure] = field(default_factory=list)
    report: Path | None = None

    @property
    def complete(self) -> bool:
        """Every session was processed in full."""
        return not self.failures


def _noop(stage: str, advance: int, total: int | None) -> None:
    return None


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
    inform: Callable[[str], None] | None = None,
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
        Address of an existing dask.distributed scheduler to run the sessions on; one that
        does not answer within 5 s is an InputError (before anything is written).
    strict_emotions : bool
        A trial_type missing from ``cfg.emotions`` is an error (``run``); otherwise the
        trial_type is its own label (``analyze``).
    analyses : bool
        Run the science analyses (:mod:`mouseface.analyses`) into ``analyses/``.
    report : bool
        Write ``report.html``.
    progress : callable, optional
        See :data:`Progress`.
    inform : callable, optional
        Called with one-line messages worth showing while the run goes on (the dask dashboard
        link).

    Returns
    -------
    RunResult
        ``failures`` lists the sessions that failed (the run went on without them).

    Raises
    ------
    InputError
        Bad input, found before anything is written (or every session failed on bad input).
    RunFailedError
        No session could be processed.
    """
    progress = progress or _noop
    out = Path(out)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    clock = _clock(timings)
    with clock("validate_s"):
        inputs = validate_stage(cfg, strict_emotions=strict_emotions, progress=progress)
    client = connect_scheduler(scheduler) if scheduler is not None else None
    try:
        if client is not None and inform is not None and (link := dashboard_link(client)):
            inform(f"dask dashboard: {link}")
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out)
        with clock("features_s"):
            features, failures = features_stage(
                inputs, cfg, out, jobs=jobs, resume=resume, client=client, progress=progress
            )
        remove_stale_temporaries(out)  # what a worker that died mid-write left behind
    finally:
        if client is not None:
            client.close()
    with clock("expression_s"):
        neutral = neutral_stage(features, cfg, progress=progress)
        emotion = [s for s in neutral if not s.features.inputs.opto_only]
        protos = prototypes_stage(emotion, cfg, out)
        strengths = strength_stage(neutral, protos, out, progress=progress)
        trials = trials_stage([st for st in strengths if not st.neutral.features.inputs.opto_only])
    with clock("decoding_s"):
        decoding, trials, notes = decoding_stage(emotion, trials, cfg, progress=progress)
    notes += _decode_error_notes(features)
    notes += [str(f) for f in failures if not f.kept]
    write_parquet_atomic(out / "trials.parquet", trials)
    write_parquet_atomic(out / "decoding.parquet", decoding)
    made_it = [f.inputs for f in features]  # a failed session has no frames to relate
    with clock("neural_s"):
        neural_stage(made_it, trials, cfg, out, progress=progress)
    with clock("opto_s"):
        opto_stage(made_it, out, progress=progress)
    timings["total_s"] = time.perf_counter() - t_start
    _write_provenance(out, cfg, features, notes, timings, failures)
    result = _result(out, trials, decoding, notes)
    result.failures = failures
    if analyses:
        analyses_stage(result, progress=progress)
    if report:
        result.report = report_stage(out, progress=progress)
    return result


_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{12}(\.tmp|\.parquet|\.nc)$")


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Remove the temporary files and folders an earlier run killed mid-write left behind.

    The atomic writers (:mod:`mouseface.io.outputs`) write ``.<name>.<12 hex>.<suffix>``
    beside their target and rename it when complete; a run killed by SIGKILL cannot clean up.
    Only such names directly in ``out``, ``out/analyses`` and ``out/sessions/<id>/`` are
    removed (one run per output folder at a time).

    Returns
    -------
    list of Path
        What was removed.
    """
    folders = [out, out / "analyses", *sorted(out.glob("sessions/*/"))]
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if _TEMPORARY.match(p.name):
                if p.is_dir():
                    shutil.rmtree(p)
                else:
                    p.unlink()
                removed.append(p)
    return removed


def _clock(timings: dict[str, float]) -> Callable[[str], AbstractContextManager[None]]:
    """``with clock(name):`` adds the block's wall time (s) to ``timings[name]``."""

    @contextmanager
    def clock(name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0

    return clock


def validate_stage(
    cfg: ProjectConfig, *, strict_emotions: bool, progress: Progress = _noop
) -> list[SessionInputs]:
    """Stage 1: validate every session, register each animal's sessions, one face size."""
    progress("validate", 0, len(cfg.sessions))
    inputs = []
    for sc in cfg.sessions:
        inputs.append(validate_session(sc, cfg, strict_emotions=strict_emotions))
        progress("validate", 1, len(cfg.sessions))
    if cfg.align_sessions:
        progress("register", 0, None)
        inputs = register_sessions(inputs)
    return size_faces(inputs, cfg)


def features_stage(
    inputs: list[SessionInputs],
    cfg: ProjectConfig,
    out: Path,
    *,
    jobs: int = 1,
    resume: bool = False,
    client: object = None,
    progress: Progress = _noop,
) -> tuple[list[SessionFeatures], list[SessionFailure]]:
    """Stage 2: each session's feature store, here, on ``jobs`` processes or on a dask client.

    Returns
    -------
    features : list of SessionFeatures
        The sessions that made it (a video that broke in the middle included), in config order.
    failures : list of SessionFailure
        The sessions that failed, and the videos that broke in the middle (``kept``).

    Raises
    ------
    InputError
        Every session failed, all of them on bad input (the first one's message).
    RunFailedError
        Every session failed.
    """
    total = sum(s.n_frames_hint for s in inputs) or None
    progress("features", 0, total)
    hints = {s.id: s.n_frames_hint or None for s in inputs}
    done = dict.fromkeys(hints, 0)

    def per_session(sid: str, n: int) -> None:
        if not done[sid]:
            progress(f"session {sid}", 0, hints[sid])
        done[sid] += n
        progress(f"session {sid}", n, hints[sid])
        progress("features", n, total)

    results = extract_sessions(
        inputs, cfg, out, jobs=jobs, resume=resume, client=client, progress=per_session
    )
    features = [r for r in results if isinstance(r, SessionFeatures)]
    failures = [r for r in results if isinstance(r, SessionFailure)]
    if not features:
        if all(f.kind == "input" for f in failures):
            raise InputError(failures[0].message)
        raise RunFailedError(failures)
    return features, sorted(
        failures + decode_failures(features), key=lambda f: [s.id for s in inputs].index(f.session)
    )


def neutral_stage(
    features: list[SessionFeatures], cfg: ProjectConfig, *, progress: Progress = _noop
) -> list[SessionNeutral]:
    """Stage 3: each session's trial windows, neutral prototype and ``change``."""
    progress("prototypes", 0, len(features))
    neutral = []
    for f in features:
        neutral.append(neutral_session(f, cfg))
        progress("prototypes", 1, len(features))
    return neutral


def prototypes_stage(neutral: list[SessionNeutral], cfg: ProjectConfig, out: Path) -> Prototypes:
    """Stage 4: per-animal and pooled prototypes; writes ``prototypes.nc``."""
    protos = build_prototypes(neutral, cfg)
    write_prototypes(protos, neutral, cfg, out)
    return protos


def strength_stage(
    neutral: list[SessionNeutral], protos: Prototypes, out: Path, *, progress: Progress = _noop
) -> list[SessionStrength]:
    """Stage 5: per-frame strength of each session; writes ``sessions/<id>/frames.parquet``."""
    progress("strength", 0, len(neutral))
    strengths = []
    for s in neutral:
        st = session_strength(s, protos.emotions, protos.for_animal(s.animal))
        write_frames(st, out)
        strengths.append(st)
        progress("strength", 1, len(neutral))
    return strengths


def trials_stage(strengths: list[SessionStrength]) -> pd.DataFrame:
    """Stage 6: the trial table of all sessions, in session order."""
    return pd.concat([trial_rows(st) for st in strengths], ignore_index=True)


def decoding_stage(
    neutral: list[SessionNeutral],
    trials: pd.DataFrame,
    cfg: ProjectConfig,
    *,
    progress: Progress = _noop,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Stage 7: decoders cross-validated by animal; trials get their out-of-fold predictions.

    See :func:`mouseface.pipeline.project.decoding_dataset` (decoding table, trials, notes).
    """
    progress("decoding", 0, None)
    return decoding_dataset(neutral, trials, cfg)


def neural_stage(
    inputs: list[SessionInputs],
    trials: pd.DataFrame,
    cfg: ProjectConfig,
    out: Path,
    *,
    progress: Progress = _noop,
) -> None:
    """Stage 8a: neurons of every session with ``neural`` against its face
    (``neurons.parquet`` and the tables the report draws from)."""
    imaged = [s for s in inputs if s.cfg.neural is not None]
    if not imaged:
        return
    progress("neurons", 0, len(imaged))
    results = []
    for s in imaged:
        frames = pd.read_parquet(out / "sessions" / s.id / "frames.parquet")
        results.append(neural_session(s, frames, trials[trials["session"] == s.id], cfg))
        progress("neurons", 1, len(imaged))
    write_neural(results, out)


def opto_stage(inputs: list[SessionInputs], out: Path, *, progress: Progress = _noop) -> None:
    """Stage 8b: the face in laser epochs of every session with ``opto`` (``opto.parquet``)."""
    stimulated = [s for s in inputs if s.laser is not None]
    if not stimulated:
        return
    progress("opto", 0, len(stimulated))
    tables, locked = [], []
    for s in stimulated:
        frames = pd.read_parquet(out / "sessions" / s.id / "frames.parquet")
        table, lk = opto_session(s, frames)
        tables.append(table)
        locked.append(lk)
        progress("opto", 1, len(stimulated))
    write_opto(tables, locked, out)


def analyses_stage(result: RunResult, *, progress: Progress = _noop) -> None:
    """Stage 8: the science analyses into ``analyses/``; their notes and summaries go into
    ``result``."""
    from mouseface.analyses import run_analyses

    for name, res in run_analyses(result.out, progress=progress).items():
        result.notes += res.notes
        result.analyses[name] = res.summary


def report_stage(out: Path, *, progress: Progress = _noop) -> Path:
    """Stage 9: ``report.html``."""
    from mouseface.report import build_report

    progress("report", 0, 1)
    path = build_report(out)
    progress("report", 1, 1)
    return path


def _decode_error_notes(features: list[SessionFeatures]) -> list[str]:
    return [
        f"{f.id}: decoding stopped at frame {f.decode_error['frame']} ({f.decode_error['message']})"
        for f in features
        if f.decode_error
    ]


def _result(out: Path, trials: pd.DataFrame, decoding: pd.DataFrame, notes: list[str]) -> RunResult:
    result = RunResult(out=out, trials=trials, decoding=decoding, notes=notes)
    if not decoding.empty:
        acc = decoding[decoding["metric"].isin(["accuracy", "balanced_accuracy"])]
        means = acc.groupby(["metric", "decoder", "level"])["value"].mean()
        result.accuracy = {k[1:]: float(v) for k, v in means.items() if k[0] == "accuracy"}
        result.balanced_accuracy = {
            k[1:]: float(v) for k, v in means.items() if k[0] == "balanced_accuracy"
        }
    return result


def _write_provenance(
    out: Path,
    cfg: ProjectConfig,
    sessions: list[SessionFeatures],
    notes: list[str],
    timings: dict[str, float],
    failures: list[SessionFailure],
) -> None:
    inputs = {}
    for f in sessions:
        s = f.inputs
        inputs[str(s.cfg.video)] = s.video_sha256
        if s.cfg.events is not None:
            inputs[str(s.cfg.events)] = s.events_sha256
        if s.nwb is not None:
            inputs[str(s.nwb.path)] = s.nwb.sha256
        if s.pose_sha256 is not None:
            inputs[str(s.cfg.pose.path)] = s.pose_sha256
    face_w = cfg.hog.face_width
    target = sessions[0].inputs.face_target
    prov = {
        "package": "mouseface",
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        # the sessions this run's tables are made of (analyses and the library read these);
        # a failed session is under "failures" instead
        "config": cfg.model_copy(update={"sessions": [f.inputs.cfg for f in sessions]}).model_dump(
            mode="json"
        ),
        "inputs": inputs,
        "parameters": {
            "features": list(cfg.features),
            "hog": cfg.hog.model_dump(mode="json"),
            "flow": cfg.flow.model_dump(mode="json") if "flow" in cfg.features else None,
            "face_size_rule": (
                f"every face crop resized to {target[1]}x"
                f"{target[0]} px (width {face_w}, height from the median crop "
                "aspect ratio) before HOG, so a cell covers the same part of every face"
                if face_w
                else "HOG on the native crop size"
            ),
            "prototype_frames": cfg.prototype_frames,
            "change": "1 - Pearson r with the session's neutral prototype (baseline frames)",
            "strength": "Pearson r with the animal's emotion prototype (pooled if it has none)",
            "trial_strength": "response-window mean minus baseline-window mean",
        },
        "sessions": {f.id: f.summary() for f in sessions},
        "warnings": notes,
        "failures": [f.as_dict() for f in failures],
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
