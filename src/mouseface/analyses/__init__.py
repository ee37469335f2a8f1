"""Science analyses run on a finished output folder (issue: decoders, intensity, state, time
course, change of meaning, valence/arousal, calibration, prototype libraries).

Each analysis is a module in this package with a function ``run(ctx: Context) -> Result``.
:func:`run_analyses` runs the registered ones, writes every table to
``OUT/analyses/<analysis>_<table>.parquet``, the report fragment to
``OUT/analyses/<analysis>.section.html`` and a summary to ``OUT/analyses/summary.json``.
``report.html`` includes the fragments.
"""

from __future__ import annotations

from mouseface.analyses.context import Context, Result, load_context
from mouseface.analyses.runner import ANALYSES, run_analyses

__all__ = ["ANALYSES", "Context", "Result", "load_context", "run_analyses"]
