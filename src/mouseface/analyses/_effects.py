"""Shared helpers of the intensity, state and time-course analyses (private): trial selection and
small HTML pieces for their report sections."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mouseface.report.figures import png_data_uri

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


def fmt(value: float, digits: int = 3) -> str:
    """A number for the report: ``digits`` significant digits, ``n/a`` when not finite."""
    if value is None or not np.isfinite(value):
        return "n/a" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:.{digits}g}"


def fmt_ci(value: float, lo: float, hi: float, digits: int = 3) -> str:
    """``value [lo, hi]``."""
    return f"{fmt(value, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def fmt_p(p: float) -> str:
    """``p = 0.012`` / ``p &lt; 0.001`` / ``p = n/a`` (HTML text)."""
    if p is None or not np.isfinite(p):
        return "p = n/a"
    return "p &lt; 0.001" if p < 0.001 else f"p = {p:.3f}"


def html_table(df: pd.DataFrame, *, digits: int = 3) -> str:
    """A DataFrame as an escaped HTML table, floats with ``digits`` significant digits."""
    shown = df.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = [fmt(v, digits) for v in shown[c]]
    return shown.to_html(index=False, border=0, classes="tbl", escape=True, na_rep="n/a")


def figure_html(fig, *, alt: str, caption: str) -> str:
    """A matplotlib Figure as an embedded PNG with a caption."""
    return (
        f"<figure><img src='{png_data_uri(fig)}' alt='{html.escape(alt, quote=True)}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def section_html(sid: str, title: str, parts: Sequence[str]) -> str:
    """``<section id=..><h2>title</h2>...</section>`` (parts are trusted HTML)."""
    return f"<section id='{sid}'><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


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
