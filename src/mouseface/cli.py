"""The ``mouseface`` command line: thin wrappers that parse, call the pipeline and print.

Exit codes: 0 success, 2 bad input (the message names the file, row or frame and the fix),
1 anything else (a bug: please report it with the traceback).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from mouseface import __version__
from mouseface.errors import InputError, MousefaceWarning

app = typer.Typer(
    name="mouseface",
    help="Read emotion from videos of mouse faces (Dolensek et al., Science 2020) — features, "
    "prototypes, expression strength, decoders and a report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
events_app = typer.Typer(help="Make or inspect stimulus event tables.", no_args_is_help=True)
app.add_typer(events_app, name="events")
library_app = typer.Typer(
    help="Share prototypes: save them from a run, apply them to other "
    "videos (after registering the face).",
    no_args_is_help=True,
)
app.add_typer(library_app, name="library")

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class RichProgress:
    """Adapter from the pipeline's ``progress(stage, advance, total)`` to rich progress bars."""

    def __init__(self, progress: Progress) -> None:
        self._p = progress
        self._tasks: dict[str, int] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._p.add_task(stage, total=total)
        if advance:
            self._p.advance(self._tasks[stage], advance)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal
        and "MOUSEFACE_PROGRESS" not in __import__("os").environ,
    )


def _guard(fn: Callable[[], None]) -> None:
    """Run ``fn``; InputError -> message and exit 2; warnings shown once, briefly."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        err_console.print(f"[yellow]warning:[/] {message}")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", MousefaceWarning)
            warnings.showwarning = show
            fn()
    except InputError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _print_result(result) -> None:  # noqa: ANN001
    table = Table(title="Leave-one-animal-out decoding", show_lines=False)
    for col in ("decoder", "level", "accuracy", "balanced accuracy"):
        table.add_column(col)
    for (dec, level), acc in sorted(result.accuracy.items()):
        table.add_row(dec, level, f"{acc:.3f}", f"{result.balanced_accuracy[(dec, level)]:.3f}")
    if result.accuracy:
        out_console.print(table)
    for note in result.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    out_console.print(f"trials:  {result.out / 'trials.parquet'}")
    if result.report is not None:
        out_console.print(f"report:  {result.report}")


def _version(value: bool) -> None:
    if value:
        out_console.print(f"mouseface {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """mouseface: facial expressions of emotion in mice, from video."""


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Project config (mouseface.yaml).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "mouseface-out"
    ),
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Sessions processed in parallel.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of an existing dask.distributed scheduler (tcp://host:port)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Reuse finished sessions' features (same inputs and parameters)."
        ),
    ] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
) -> None:
    """Run the whole method on every session of a project config.

    Writes trials.parquet, sessions/<id>/{features.zarr,frames.parquet}, prototypes.nc,
    decoding.parquet, provenance.json and report.html into OUT.
    """
    from mouseface.io.config import load_config
    from mouseface.pipeline import run_project

    def go() -> None:
        cfg = load_config(config)
        with _progress() as p:
            result = run_project(
                cfg,
                out,
                jobs=jobs,
                resume=resume,
                scheduler=scheduler,
                report=not no_report,
                progress=RichProgress(p),
            )
        _print_result(result)

    _guard(go)


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="Face video (or folder of images).")],
    events: Annotated[Path, typer.Option("--events", "-e", help="Events TSV/CSV.")],
    roi: Annotated[
        str | None,
        typer.Option(help="Face box 'x,y,w,h' in pixels, or 'auto'; default: whole frame."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "mouseface-out"
    ),
    face_width: Annotated[
        int, typer.Option(help="Width (px) face crops are resized to (10 cells of 32 px).")
    ] = 320,
    stabilise: Annotated[bool, typer.Option(help="Per-frame stabilisation (translation).")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
) -> None:
    """Analyse one video with its events table (no config; each trial_type is its own label)."""
    from mouseface.face.roi import parse_roi
    from mouseface.pipeline import analyze_video

    def go() -> None:
        with _progress() as p:
            result = analyze_video(
                video,
                events,
                out,
                roi=parse_roi(roi),
                hog={"face_width": face_width},
                stabilise=stabilise,
                report=not no_report,
                progress=RichProgress(p),
            )
        _print_result(result)

    _guard(go)


@app.command("roi")
def roi_cmd(
    video: Annotated[Path, typer.Argument(help="Side-view face video.")],
    png: Annotated[Path | None, typer.Option(help="PNG to write (default VIDEO.roi.png).")] = None,
) -> None:
    """Propose a face ROI automatically; print it as x,y,w,h and save a PNG with the box."""
    from mouseface.face.roi import propose_roi, save_roi_png
    from mouseface.sessions import _sample_frames

    def go() -> None:
        frames = _sample_frames(video)
        box = propose_roi(frames)
        target = png or video.with_suffix(".roi.png")
        save_roi_png(target, frames[len(frames) // 2], box)
        out_console.print(",".join(map(str, box)))
        err_console.print(f"wrote {target}")

    _guard(go)


@events_app.command("from-video")
def events_from_video(
    video: Annotated[Path, typer.Argument(help="Video with a trigger patch (LED, pixel code).")],
    roi: Annotated[str, typer.Option(help="Trigger patch 'x,y,w,h' in pixels.")] = "0,0,10,10",
    threshold: Annotated[float, typer.Option(help="Patch mean above this = trigger on.")] = 200.0,
    label: Annotated[str, typer.Option(help="trial_type of the events found.")] = "stimulus",
    min_gap: Annotated[float, typer.Option(help="Merge onsets closer than this (s).")] = 0.5,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="TSV to write (default VIDEO.events.tsv).")
    ] = None,
) -> None:
    """Find stimulus onsets encoded as a bright patch in the frame; write an events TSV."""
    from mouseface.face.roi import parse_roi
    from mouseface.io.events import write_events
    from mouseface.io.triggers import trigger_events

    def go() -> None:
        box = parse_roi(roi)
        if not isinstance(box, tuple):
            raise InputError(f"--roi must be a box x,y,w,h for events from-video, got {roi!r}")
        df = trigger_events(video, roi=box, threshold=threshold, label=label, min_gap=min_gap)
        target = out or video.with_suffix(".events.tsv")
        write_events(df, target)
        for _, r in df.iterrows():
            out_console.print(f"onset {r['onset']:.3f} s  duration {r['duration']:.3f} s")
        err_console.print(f"{len(df)} event(s) -> {target}")

    _guard(go)


@app.command()
def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic dataset into.")],
    animals: Annotated[int, typer.Option(help="Number of animals.")] = 4,
    trials: Annotated[int, typer.Option(help="Trials per stimulus and session.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Generate synthetic side-view mouse-face videos with ground truth and a mouseface.yaml."""
    from mouseface.synth import generate_dataset

    def go() -> None:
        with _progress() as p:
            prog = RichProgress(p)
            yaml_path = generate_dataset(
                out,
                n_animals=animals,
                trials_per_stimulus=trials,
                seed=seed,
                progress=lambda n: prog("synth", n, None),
            )
        out_console.print(f"config: {yaml_path}")
        out_console.print(f"run it: mouseface run {yaml_path} --out {out / 'results'}")

    _guard(go)


@app.command()
def demo(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Folder for data and results (default: a new temporary folder)."
        ),
    ] = None,
    animals: Annotated[int, typer.Option(help="Number of synthetic animals.")] = 4,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Sessions in parallel.")] = 1,
) -> None:
    """Synthesise a small dataset (all seven classes), run everything, print the report path."""
    from mouseface.io.config import load_config
    from mouseface.pipeline import run_project
    from mouseface.synth import generate_dataset

    def go() -> None:
        root = out or Path(tempfile.mkdtemp(prefix="mouseface-demo-"))
        with _progress() as p:
            prog = RichProgress(p)
            yaml_path = generate_dataset(
                root / "data",
                n_animals=animals,
                seed=0,
                progress=lambda n: prog("synthesise", n, None),
            )
            result = run_project(load_config(yaml_path), root / "results", jobs=jobs, progress=prog)
        _print_result(result)
        acc = result.accuracy.get(("prototype", "frame"))
        if acc is not None:
            out_console.print(f"leave-one-animal-out frame accuracy (prototype decoder): {acc:.3f}")

    _guard(go)


@app.command()
def stats(
    out: Annotated[Path, typer.Argument(help="Output folder of a run.")],
    only: Annotated[
        str | None, typer.Option(help="Comma-separated analyses to run (default: all).")
    ] = None,
) -> None:
    """(Re)run the science analyses on a finished output folder, then rebuild report.html.

    Tables go to OUT/analyses/<analysis>_<table>.parquet, key numbers to
    OUT/analyses/summary.json.
    """
    from mouseface.analyses import run_analyses
    from mouseface.report import build_report

    def go() -> None:
        names = [n.strip() for n in only.split(",")] if only else None
        with _progress() as p:
            results = run_analyses(out, names=names, progress=RichProgress(p))
        for name, res in results.items():
            out_console.print(
                f"[bold]{name}[/]: "
                + ", ".join(
                    f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
                    for k, v in res.summary.items()
                    if not isinstance(v, dict | list)
                )
            )
            for note in res.notes:
                err_console.print(f"[yellow]note:[/] {note}", highlight=False)
        out_console.print(f"report:  {build_report(out)}")

    _guard(go)


@library_app.command("save")
def library_save(
    out: Annotated[Path, typer.Argument(help="Output folder of a finished run.")],
    file: Annotated[Path, typer.Argument(help="Library file to write (.nc, netCDF).")],
) -> None:
    """Save a run's prototypes, HOG parameters, face size and reference faces as a library."""
    from mouseface.library import save_library

    _guard(lambda: out_console.print(f"library: {save_library(out, file)}"))


@library_app.command("apply")
def library_apply(
    file: Annotated[Path, typer.Argument(help="Library file (from 'mouseface library save').")],
    video: Annotated[Path, typer.Argument(help="Face video to read with the library.")],
    events: Annotated[
        Path | None,
        typer.Option("--events", "-e", help="Events TSV/CSV (baseline frames and a trial table)."),
    ] = None,
    roi: Annotated[str | None, typer.Option(help="Face box 'x,y,w,h' or 'auto'.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "mouseface-library-out"
    ),
) -> None:
    """Strength of every frame of VIDEO against a library's prototypes (after registration)."""
    from mouseface.face.roi import parse_roi
    from mouseface.library import apply_library

    def go() -> None:
        with _progress() as p:
            prog = RichProgress(p)
            res = apply_library(
                file,
                video,
                events,
                out,
                roi=parse_roi(roi),
                progress=lambda n: prog("frames", n, None),
            )
        t = res.transform
        out_console.print(
            f"registered onto {res.reference}: dx {t.dx:.1f} px, dy {t.dy:.1f} px, "
            f"rotation {t.rotation:.1f} deg, scale {t.scale:.3f}, "
            f"score {t.score:.2f}"
        )
        out_console.print(f"frames:  {res.out / 'frames.parquet'}")
        if res.trials is not None:
            out_console.print(f"trials:  {res.out / 'trials.parquet'}")

    _guard(go)


@app.command()
def report(out: Annotated[Path, typer.Argument(help="Output folder of a run.")]) -> None:
    """(Re)build report.html from an output folder."""
    from mouseface.report import build_report

    _guard(lambda: out_console.print(str(build_report(out))))


@app.command()
def bench(
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")] = None,
    quick: Annotated[bool, typer.Option(help="Fewer frames (a smoke run).")] = False,
) -> None:
    """Measure HOG speed vs scikit-image, end-to-end frames/s and peak memory (see RESULTS.md)."""
    from mouseface.bench import run_bench

    _guard(lambda: run_bench(json_path=json_path, quick=quick, console=out_console))


def main() -> None:
    """Entry point of the ``mouseface`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; run again with --resume to keep finished sessions")
        sys.exit(130)
