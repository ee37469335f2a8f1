"""CLI commands for the science analyses (``stats``) and prototype libraries (``library``)."""

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
