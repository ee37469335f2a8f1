"""Shared helpers of the intensity, state and time-course analyses (private): trial selection and
plain-JSON summaries. The HTML pieces live in :mod:`mouseface.report.fragments` (re-exported
here for analyses/decoding.py until it imports them from there)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mouseface.report.fragments import (
    figure_html,
    fmt,
    fmt_ci,
    fmt_p,
    html_table,
    section_html,
)

__all__ = [
    "fmt",
    "fmt_ci",
    "fmt_p",
    "html_table",
    "figure_html",
    "section_html",
    "use_trials",
    "json_safe",
]


def use_trials(trials: pd.DataFrame, *, valid_only: bool) -> pd.DataFrame:
    """Trials to analyse: the ``valid`` ones when asked (and the column exists)."""
    if valid_only and "valid" in trials:
        return trials[trials["valid"].astype(bool)]
    return trials


def json_safe(summary: dict) -> dict:
    """Summary values as plain JSON numbers: numpy scalars to Python, non-finite to None."""
    out = {}
    for k, v in summary.items():
        if isinstance(v, bool | np.bool_):
            out[k] = bool(v)
        elif isinstance(v, int | np.integer):
            out[k] = int(v)
        elif isinstance(v, float | np.floating):
            out[k] = float(v) if np.isfinite(v) else None
        else:
            out[k] = v
    return out
