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
    _print_headline,
    _print_neural,
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
from mouseface.cli.tools import export_app, library_app, score, stats  # noqa: E402

app.add_typer(library_app, name="library")
app.add_typer(export_app, name="export")


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
    faces: Annotated[
        str,
        typer.Option(
            help="'real' (default): each animal is one of the real mouse faces shipped with "
            "mouseface (3 distinct DER mice; more animals are variants of them), the action "
            "units warped into the footage; 'cartoon': a drawn face; or a path to a video or "
            "folder of neutral face footage of your own (see --face-roi, --face-facing)."
        ),
    ] = "real",
    face_roi: Annotated[
        str | None,
        typer.Option(help="x,y,w,h of the face in your --faces video (default: whole frame)."),
    ] = None,
    face_facing: Annotated[
        str, typer.Option(help="Which way the snout points in your --faces video: left|right.")
    ] = "left",
    neural: Annotated[
        bool,
        typer.Option(
            help="Also simulate two-photon imaging (suite2p folder + sync pulses) for the first "
            "session of each animal: neurons tuned to one emotion, onset neurons, untuned ones."
        ),
    ] = False,
    opto: Annotated[
        bool,
        typer.Option(
            help="Also render one optogenetics session per animal: laser targets that evoke a "
            "chosen emotion at three powers, and sham epochs that evoke nothing."
        ),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes rendering cartoon animals in parallel (-1 = all cores); the files "
            "are the same as with 1.",
        ),
    ] = -1,
) -> None:
    """Generate synthetic side-view mouse-face videos with ground truth and a mouseface.yaml.

    Ground truth goes to OUT/truth (per frame: emotion, amplitude, action units, nuisance; per
    trial; per animal: its real identity, variant and expression style).
    """
    from mouseface.face.roi import parse_roi
    from mouseface.synth import generate_dataset
    from mouseface.synth.faces import load_face_video

    def go() -> None:
        footage: object = faces
        if faces not in ("real", "cartoon"):
            if face_facing not in ("left", "right"):
                raise InputError(f"--face-facing must be left or right, got {face_facing!r}")
            roi = parse_roi(face_roi) if face_roi else None
            footage = [load_face_video(Path(faces), roi=roi, facing=face_facing)]
        with _progress() as p:
            prog = RichProgress(p)
            yaml_path = generate_dataset(
                out,
                n_animals=animals,
                trials_per_stimulus=trials,
                seed=seed,
                licl_tail=licl_tail,
                faces=footage,
                neural=neural,
                opto=opto,
                progress=lambda n: prog("synth", n, None),
                n_jobs=jobs,
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
    faces: Annotated[
        str,
        typer.Option(
            help="'cartoon' (default) or 'real': the drawn faces, or real mouse faces with the "
            "action units warped in. On real faces the HOG features do not yet carry an "
            "expression over to unseen animals (headline near chance: see docs/synth.md), so "
            "the demo draws cartoons until they do."
        ),
    ] = "cartoon",
) -> None:
    """Synthesise a small dataset, run everything, print the headline numbers and the report path.

    The dataset: all seven classes, one two-photon imaging session and one optogenetics session
    per animal (see 'mouseface synth --help').
    """
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
                faces=faces,
                neural=True,
                opto=True,
                opto_epochs=2,
                progress=lambda n: prog("synthesise", n, None),
                n_jobs=-1,
            )
            result = run_project(load_config(yaml_path), root / "results", jobs=jobs, progress=prog)
        _print_headline(root / "results", root / "data")
        _print_result(result)
        _print_neural(result.out, root / "data")
        dec = result.analyses.get("decoding", {})
        key = "linear.animal.frame.balanced_accuracy"
        if key in dec:
            out_console.print(
                f"decoding analysis (linear, leave one animal out), 7 classes, baseline + "
                f"stimulus-window frames above the gate only: {dec[key]:.3f} "
                f"[{dec[key + '_low']:.3f}, {dec[key + '_high']:.3f}]"
            )

    _guard(go)


@app.command()
def report(out: Annotated[Path, typer.Argument(help="Output folder of a run.")]) -> None:
    """(Re)build report.html from an output folder."""
    from mouseface.report import build_report

    _guard(lambda: out_console.print(str(build_report(out))))


@app.command()
def overlay(
    out: Annotated[Path, typer.Argument(help="Output folder of a run.")],
    session: Annotated[
        str, typer.Option("--session", "-s", help="Session id (a folder of OUT/sessions).")
    ],
    start: Annotated[
        float | None,
        typer.Option(help="First second to show (video clock); default: the first frame."),
    ] = None,
    end: Annotated[
        float | None, typer.Option(help="Second to stop at (exclusive); default: the end.")
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="MP4 to write (default OUT/sessions/<session>/overlay.mp4)."
        ),
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option(help="The session's video, if it moved since the run (default: provenance)."),
    ] = None,
    window: Annotated[float, typer.Option(help="Seconds of strength trace on screen.")] = 5.0,
) -> None:
    """Render an MP4 of a session for checking the method by eye (or for a talk).

    Each frame shows the face crop, its HOG glyphs, the frame's label (the decoder's
    'predicted' column of frames.parquet when the run wrote one, else the emotion with the
    largest strength; the caption says which) and the strength traces of the last seconds,
    with the stimuli shaded. H.264, at the session's frame rate.
    """
    from mouseface.report.overlay import render_overlay

    def go() -> None:
        with _progress() as p:
            prog = RichProgress(p)
            res = render_overlay(
                out,
                session,
                start=start,
                end=end,
                path=to,
                video=video,
                window=window,
                progress=lambda k, n: prog("overlay", 1, n),
            )
        out_console.print(str(res.path))
        err_console.print(
            f"{res.n_frames} frames, {res.width}x{res.height} px, {res.fps:.2f} frames/s; "
            f"label from {'decoder' if res.label_source == 'predicted' else 'largest strength'}; "
            f"rendered in {res.seconds:.1f} s",
            highlight=False,
        )

    _guard(go)


@app.command()
def bench(
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")] = None,
    quick: Annotated[bool, typer.Option(help="Fewer frames (a smoke run).")] = False,
) -> None:
    """Measure HOG speed vs scikit-image, end-to-end frames/s and peak memory (see RESULTS.md)."""
    from mouseface.pipeline.bench import run_bench

    _guard(lambda: run_bench(json_path=json_path, quick=quick, console=out_console))


app.command()(stats)
app.command()(score)


def main() -> None:
    """Entry point of the ``mouseface`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; run again with --resume to keep finished sessions")
        sys.exit(130)
