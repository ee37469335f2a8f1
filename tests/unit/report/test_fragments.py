"""HTML pieces of the analyses' report sections (mouseface.report.fragments)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mouseface.report.figures import new_figure
from mouseface.report.fragments import figure_html, fmt, fmt_ci, fmt_p, html_table, section_html


def test_numbers_intervals_and_p_values():
    assert fmt(0.123456) == "0.123" and fmt(np.nan) == "n/a" and fmt(None) == "n/a"
    assert fmt(np.inf) == "inf" and fmt(-np.inf) == "-inf"
    assert fmt_ci(0.5, 0.25, 0.75) == "0.5 [0.25, 0.75]"
    assert fmt_ci(0.001234, 0.001, 0.0015, 2) == "0.0012 [0.001, 0.0015]"
    assert fmt_p(0.0123) == "p = 0.012" and fmt_p(1e-5) == "p &lt; 0.001"
    assert fmt_p(np.nan) == "p = n/a"


def test_tables_figures_and_sections_are_escaped():
    t = html_table(pd.DataFrame({"name": ["<a>"], "x": [0.123456]}))
    assert "&lt;a&gt;" in t and "0.123" in t and 'class="dataframe tbl"' in t
    fig = new_figure(1, 1)
    with_cap = figure_html(fig, alt="a 'b'", caption="c < d")
    assert with_cap.startswith("<figure><img src='data:image/png;base64,")
    assert "alt='a &#x27;b&#x27;'" in with_cap and "<figcaption>c &lt; d</figcaption>" in with_cap
    assert "figcaption" not in figure_html(fig, alt="x")
    assert section_html("s", "A & B", ["<p>x</p>"]) == (
        "<section id='s'><h2>A &amp; B</h2><p>x</p></section>"
    )
