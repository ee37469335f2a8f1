"""HTML pieces of the analyses' report sections: numbers with intervals, p-values, tables,
embedded figures and the section wrapper (one copy, used by every analysis)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mouseface.report.figures import png_data_uri

__all__ = ["fmt", "fmt_ci", "fmt_p", "html_table", "figure_html", "section_html"]


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for the report: ``digits`` significant digits, ``n/a`` when missing or NaN."""
    if value is None or not np.isfinite(value):
        return "n/a" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:.{digits}g}"


def fmt_ci(value: float, lo: float, hi: float, digits: int = 3) -> str:
    """``value [lo, hi]``, each with ``digits`` significant digits (:func:`fmt`)."""
    return f"{fmt(value, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def fmt_p(p: float | None) -> str:
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


def figure_html(fig: Figure, *, alt: str, caption: str | None = None) -> str:
    """A matplotlib Figure as an embedded PNG (``data:`` URI) in a ``<figure>``, with an
    optional caption."""
    cap = "" if caption is None else f"<figcaption>{html.escape(caption)}</figcaption>"
    img = f"<img src='{png_data_uri(fig)}' alt='{html.escape(alt, quote=True)}'>"
    return f"<figure>{img}{cap}</figure>"


def section_html(sid: str, title: str, parts: Sequence[str]) -> str:
    """``<section id=..><h2>title</h2>...</section>`` (parts are trusted HTML)."""
    return f"<section id='{sid}'><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"
