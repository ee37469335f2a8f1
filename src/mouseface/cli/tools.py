"""CLI commands for the science analyses (``stats``, ``score``) and prototype libraries
(``library``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mouseface.cli._common import RichProgress, _guard, _progress, err_console, out_console

library_app = typer.Typer(
    help="Share prototypes: save them from a run, apply them to other "
    "videos (after registering the face).",
    no_args_is_help=True,
)


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


def score(
    out: Annotated[Path, typer.Argument(help="Output folder of a run.")],
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Synthetic data folder (mouseface synth) whose truth/ chooses the scored "
            "frames; default: found from the run's config when it is synthetic."
        ),
    ] = None,
    permutations: Annotated[
        int, typer.Option(min=100, help="Permutations for chance and p (within animal).")
    ] = 1000,
    boot: Annotated[int, typer.Option(min=100, help="Animal-bootstrap replicates.")] = 1000,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the numbers to this JSON file.")
    ] = None,
) -> None:
    """Score a run's out-of-fold predictions: frames, then trials, each with its interval.

    Frames: on synthetic data those the ground truth chooses (expressing: amplitude >= half its
    peak; neutral: no expression at all), otherwise every baseline and response-window frame.
    Trials: every emotion trial. Intervals resample animals; chance and p come from
    permutations of the predictions within animal. Nothing the decoder decides selects a frame.
    """
    import json
    from dataclasses import asdict

    from mouseface.decoding.scoring import headline_score, score_against_truth, score_trials
    from mouseface.io.outputs import write_text_atomic

    def go() -> None:
        opts = {"n_permutations": permutations, "n_boot": boot}
        frames = (
            score_against_truth(out, truth, **opts)
            if truth is not None
            else headline_score(out, **opts)
        )
        trials = score_trials(out, **opts)
        out_console.print("frames: " + frames.sentence())
        out_console.print("trials: " + trials.sentence())
        if json_out is not None:
            blob = {"frames": asdict(frames), "trials": asdict(trials)}
            write_text_atomic(json_out, json.dumps(blob, indent=2))
            out_console.print(f"wrote {json_out}")

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


export_app = typer.Typer(
    help="Export a run's results to other formats (NWB for DANDI and other tools).",
    no_args_is_help=True,
)


@export_app.command("nwb")
def export_nwb_cmd(
    out: Annotated[Path, typer.Argument(help="Output folder of a run.")],
    session: Annotated[
        list[str] | None,
        typer.Option("--session", "-s", help="Session id to export (repeat; default: all)."),
    ] = None,
    dest: Annotated[
        Path | None, typer.Option(help="Folder for the .nwb files (default: OUT/nwb).")
    ] = None,
    age: Annotated[
        str, typer.Option(help="Subject age, ISO 8601 (e.g. P90D); default: unknown (P0D/).")
    ] = "P0D/",
    sex: Annotated[str, typer.Option(help="Subject sex: M, F, U (unknown) or O.")] = "U",
    experimenter: Annotated[
        list[str] | None, typer.Option(help="'Last, First' (repeat for several).")
    ] = None,
    lab: Annotated[str | None, typer.Option(help="Lab name.")] = None,
    institution: Annotated[str | None, typer.Option(help="Institution.")] = None,
) -> None:
    """Write one NWB file per session: per-frame strengths, change, motion and decoder
    probabilities as TimeSeries (processing module 'behavior'), the trial table, stimulus
    events, the face ROI and mean face, neural and optogenetics results where present, and the
    run's provenance. Files pass nwbinspector without critical or best-practice violations.
    """
    from mouseface.io.nwb import NWBExportOptions, export_nwb

    def go() -> None:
        opts = NWBExportOptions(
            subject_age=age,
            subject_sex=sex,
            experimenter=experimenter or None,
            lab=lab,
            institution=institution,
        )
        with _progress() as p:
            task = p.add_task("export nwb", total=None)
            paths = export_nwb(out, dest, sessions=session or None, options=opts)
            p.update(task, completed=1, total=1)
        for path in paths:
            out_console.print(str(path))

    _guard(go)
