"""Run the registered analyses on an output folder and write their tables and report parts."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from pathlib import Path

from mouseface.analyses.context import Context, Result, load_context
from mouseface.errors import InputError
from mouseface.io.outputs import write_json_atomic, write_parquet_atomic, write_text_atomic

__all__ = ["ANALYSES", "run_analyses"]

_INFRA = {"context", "runner", "report_parts"}


def _discover() -> dict[str, str]:
    """Analysis modules of this package: each defines ``NAME``, ``ORDER`` and ``run(ctx)``."""
    found = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_") or info.name in _INFRA:
            continue
        mod = importlib.import_module(f"mouseface.analyses.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "NAME"):
            found.append((getattr(mod, "ORDER", 100), mod.NAME, info.name))
    return {name: module for _, name, module in sorted(found)}


#: analysis name -> module in mouseface.analyses with ``run(ctx) -> Result``
ANALYSES: dict[str, str] = _discover()


def _load(name: str) -> Callable[[Context], Result]:
    return importlib.import_module(f"mouseface.analyses.{ANALYSES[name]}").run


def run_analyses(
    out: str | Path,
    *,
    names: list[str] | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> dict[str, Result]:
    """Run analyses on a finished output folder.

    Parameters
    ----------
    out : str or Path
        Output folder of ``mouseface run`` / ``analyze``.
    names : list of str, optional
        Analyses to run (default: all registered, or those listed in the config's
        ``analyses`` section).
    progress : callable, optional
        ``progress(stage, advance, total)``.

    Returns
    -------
    dict
        name -> Result. An analysis that cannot run on these data (too few animals, no
        intensities, ...) returns a Result whose ``notes`` say why, instead of failing the run.
    """
    ctx = load_context(out)
    selected = names or list(ctx.config.analyses) or list(ANALYSES)
    unknown = [n for n in selected if n not in ANALYSES]
    if unknown:
        raise InputError(f"unknown analysis {', '.join(unknown)}; known: {', '.join(ANALYSES)}")
    folder = Path(out) / "analyses"
    results: dict[str, Result] = {}
    if progress:
        progress("analyses", 0, len(selected))
    for name in selected:
        ctx.options = dict(ctx.config.analyses.get(name) or {})
        try:
            res = _load(name)(ctx)
        except InputError as exc:
            res = Result(notes=[f"{name}: skipped: {exc}"])
        for table, df in res.tables.items():
            write_parquet_atomic(folder / f"{name}_{table}.parquet", df)
        if res.section_html:
            write_text_atomic(folder / f"{name}.section.html", res.section_html)
        results[name] = res
        if progress:
            progress("analyses", 1, len(selected))
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    # re-running some analyses (stats --only) keeps the others' entries
    summary.update(
        {
            n: {"summary": r.summary, "notes": r.notes, "tables": sorted(r.tables)}
            for n, r in results.items()
        }
    )
    write_json_atomic(folder / "summary.json", json.loads(json.dumps(summary, default=float)))
    return results
