"""Shared pieces of the CLI: consoles, rich progress adapter, error guard, result printing."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

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

from mouseface.errors import InputError, MousefaceWarning

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class RichProgress:
    """Adapter from the pipeline's ``progress(stage, advance, total)`` to rich progress bars.

    One bar per stage; a session's own bar (stage ``"session <id>"``) is hidden once it is
    full, so that only the sessions still running show under the run's ``features`` bar.
    """

    def __init__(self, progress: Progress) -> None:
        self._p = progress
        self._tasks: dict[str, int] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._p.add_task(stage, total=total)
        if advance:
            task = self._tasks[stage]
            self._p.advance(task, advance)
            if stage.startswith("session ") and self._p.tasks[task].finished:
                self._p.update(task, visible=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal and "MOUSEFACE_PROGRESS" not in os.environ,
    )


def _guard(fn: Callable[[], None]) -> None:
    """Run ``fn``; InputError -> message and exit 2; a run where no session could be processed
    (``RunFailedError``) -> its failures and exit 1; warnings shown once, briefly."""
    from mouseface.pipeline import RunFailedError

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
    except RunFailedError as exc:
        _print_failures(exc.failures)
        raise typer.Exit(1) from None


def _print_failures(failures) -> None:  # noqa: ANN001
    """One line per failed session (session, kind, frame, message) on stderr."""
    for f in failures:
        err_console.print(f"[red]failed:[/] {f}", highlight=False)


def _print_result(result) -> None:  # noqa: ANN001
    table = Table(title="Leave-one-animal-out decoding", show_lines=False)
    for col in ("decoder", "level", "accuracy", "balanced accuracy"):
        table.add_column(col)
    for (dec, level), acc in sorted(result.accuracy.items()):
        table.add_row(dec, level, f"{acc:.3f}", f"{result.balanced_accuracy[(dec, level)]:.3f}")
    if result.accuracy:
        out_console.print(table)
    listed = {str(f) for f in result.failures}
    for note in result.notes:
        if note not in listed:  # a failed session is shown once, below
            err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    out_console.print(f"trials:  {result.out / 'trials.parquet'}")
    if result.report is not None:
        out_console.print(f"report:  {result.report}")
    if result.failures:
        _print_failures(result.failures)
        err_console.print(
            f"[red]partial run:[/] {len(result.failures)} session(s) failed (listed above and in "
            f"{result.out / 'provenance.json'} under 'failures'); fix them and rerun with "
            "--resume to reuse the finished sessions",
            highlight=False,
        )


def _print_neural(out: Path, data: Path | None = None) -> None:
    """Tuned neurons per emotion and the emotion each laser target evokes, when present; with
    ``data`` (a synthetic dataset) also the tuned calls scored against its ground truth."""
    import pandas as pd

    if (p := out / "neurons.parquet").is_file():
        nt = pd.read_parquet(p)
        tuned = nt[nt["tuned"]].groupby("emotion").size()
        n = len(nt.drop_duplicates(["session", "plane", "neuron"]))
        out_console.print(
            f"neurons: {int(tuned.sum())} of {int(n)} tuned to one emotion (q <= 0.05): "
            + ", ".join(f"{e} {int(k)}" for e, k in tuned.items())
        )
        if data is not None and (data / "truth").is_dir():
            from mouseface.synth.neural import score_tuned

            sc = score_tuned(nt, data / "truth")
            out_console.print(
                f"tuned neurons vs the generator's truth: false discovery {sc['fdp']:.1%}, "
                f"power {sc['power']:.1%} ({sc['n_found']} called, {sc['n_true']} truly tuned)"
            )
    if (p := out / "opto.parquet").is_file():
        ot = pd.read_parquet(p)
        main = ot[ot["condition"] == "laser_vs_baseline"]
        out_console.print(
            "optogenetics, evoked emotion per session and target: "
            + "; ".join(
                f"{r.session} {r.target} -> {r.evoked_emotion} (p = {r.p:.2g})"
                for r in main.itertuples()
            )
        )


def _print_headline(out, data) -> None:  # noqa: ANN001
    """The honest headline first: out-of-fold per-frame balanced accuracy on frames chosen by
    the ground truth (synthetic data), else on every baseline and response-window frame."""
    from mouseface.decoding.scoring import headline_score, score_against_truth

    try:
        score = score_against_truth(out, data) if data is not None else headline_score(out)
    except InputError as exc:
        err_console.print(f"[yellow]note:[/] headline not computed: {exc}", highlight=False)
        return
    out_console.print(
        "Emotion of every frame, named by the first decoder on animals it never saw "
        "(leave one animal out), all classes: " + score.sentence()
    )
