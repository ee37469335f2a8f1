"""The ``mouseface`` command line: thin wrappers that parse, call the pipeline and print.

Exit codes: 0 success, 2 bad input (the message names the file, row or frame and the fix;
found before anything is written), 1 a partial run (``run``/``analyze``: some sessions failed,
each named with its frame; the others' outputs are written) or anything else (a bug: please
report it with the traceback).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from mouseface import __version__
from mouseface.cli._common import (
    RichProgress,
    _guard,
    _print_result,
    _progress,
    err_console,
    out_console,
)
from mouseface.errors import InputError

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
from mouseface.cli.tools import library_app, stats  # noqa: E402

app.add_typer(library_app, name="library")


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
    analyses: Annotated[
        bool,
        typer.Option(help="Run the science analyses into OUT/analyses (see 'mouseface stats')."),
    ] = True,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
) -> None:
    """Run the whole method on every session of a project config.

    Writes trials.parquet, sessions/<id>/{features.zarr,frames.parquet}, prototypes.nc,
    decoding.parquet, provenance.json and report.html into OUT. A session that fails (worker
    died, disk full, video broken mid-way) is named with its frame; the others finish and the
    exit code is 1. Rerun with --resume to reuse the sessions already done.
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
                analyses=analyses,
                report=not no_report,
                progress=RichProgress(p),
                inform=lambda line: err_console.print(line, highlight=False),
            )
        _print_result(result)
        if result.failures:
            raise typer.Exit(1)

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
    analyses: Annotated[
        bool, typer.Option(help="Also run the science analyses (see 'mouseface stats').")
    ] = False,
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
                analyses=analyses,
                report=not no_report,
                progress=RichProgress(p),
            )
        _print_result(result)
        if result.failures:
            raise typer.Exit(1)

    _guard(go)


@app.command("roi")
def roi_cmd(
    video: Annotated[Path, typer.Argument(help="Side-view face video.")],
    png: Annotated[Path | None, typer.Option(help="PNG to write (default VIDEO.roi.png).")] = None,
) -> None:
    """Propose a face ROI automatically; print it as x,y,w,h and save a PNG with the box."""
    from mouseface.face.roi import propose_roi, save_roi_png
    from mouseface.pipeline.session import _sample_frames

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
    licl_tail: Annotated[
        float,
        typer.Option(
            help="Seconds of video after the LiCl injection that ends every session (malaise "
            "decays with a 120-s time constant: 360 s show three of them)."
        ),
    ] = 90.0,
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
                licl_tail=licl_tail,
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
        dec = result.analyses.get("decoding", {})
        key = "linear.animal.frame.balanced_accuracy"
        if key in dec:
            out_console.print(
                f"leave-one-animal-out frame balanced accuracy, 7 classes, changed faces "
                f"(decoding analysis, linear): {dec[key]:.3f} [{dec[key + '_low']:.3f}, "
                f"{dec[key + '_high']:.3f}]"
            )

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
    from mouseface.pipeline.bench import run_bench

    _guard(lambda: run_bench(json_path=json_path, quick=quick, console=out_console))


app.command()(stats)


def main() -> None:
    """Entry point of the ``mouseface`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; run again with --resume to keep finished sessions")
        sys.exit(130)
