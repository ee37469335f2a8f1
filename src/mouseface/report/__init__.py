"""mouseface.report: the self-contained ``report.html`` of an output folder, and HOG glyphs.

- :func:`build_report` reads an output folder (provenance, trials, per-session frames,
  prototypes, decoding) and writes ``report.html`` with embedded figures and tables.
- :func:`hog_glyph` draws a HOG vector as oriented line segments (used for the prototypes).
"""

from __future__ import annotations

from mouseface.report.glyphs import hog_glyph, hog_glyph_signed
from mouseface.report.html import build_report

__all__ = ["build_report", "hog_glyph", "hog_glyph_signed"]
