"""HOG glyphs: draw a histogram of oriented gradients as oriented line segments.

Each cell of the HOG grid becomes a ``cell_px`` x ``cell_px`` tile. Every orientation bin of the
cell is drawn as a segment through the tile centre, along the *edge* that the bin stands for
(perpendicular to the gradient direction at the bin centre), with a length and brightness
proportional to the bin value. This is the picture ``skimage.feature.hog(..., visualize=True)``
draws (written here from the definition, not copied), with lengths rather than constant-length
lines so that weak bins are short.

Feature order (``skimage.feature.hog`` with ``cells_per_block=(1, 1)`` and
``feature_vector=True``): ``index = (row * cells_x + col) * orientations + o``; the gradient
orientation of bin ``o`` is centred on ``pi * (o + 0.5) / orientations`` radians, measured from
the +column axis toward the +row axis (image rows grow downward).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from mouseface.errors import InputError

__all__ = ["hog_glyph", "hog_glyph_signed"]


def _positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, Integral) or value < minimum:
        raise InputError(f"hog_glyph: {name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check(
    features: np.ndarray, cells_shape: tuple[int, int], orientations: int, cell_px: int
) -> tuple[np.ndarray, int, int, int, int]:
    try:
        cy, cx = cells_shape
    except (TypeError, ValueError):
        raise InputError(
            f"hog_glyph: cells_shape must be (cells_y, cells_x); got {cells_shape!r}"
        ) from None
    cy = _positive_int(cy, "cells_shape[0]")
    cx = _positive_int(cx, "cells_shape[1]")
    orientations = _positive_int(orientations, "orientations")
    cell_px = _positive_int(cell_px, "cell_px", minimum=3)
    f = np.asarray(features, dtype=np.float64)
    n = cy * cx * orientations
    if f.ndim != 1 or f.size != n:
        raise InputError(
            f"hog_glyph: features must be a 1-D vector of cells_y * cells_x * orientations = "
            f"{cy} * {cx} * {orientations} = {n} values (cells_per_block=(1, 1)); got shape "
            f"{f.shape}. Pass the matching cells_shape and orientations"
        )
    return f, cy, cx, orientations, cell_px


def hog_glyph(
    features: np.ndarray,
    *,
    cells_shape: tuple[int, int],
    orientations: int,
    cell_px: int = 24,
    vmax: float | None = None,
) -> np.ndarray:
    """Draw a HOG feature vector as a grid of oriented line segments.

    Parameters
    ----------
    features : ndarray, shape (cells_y * cells_x * orientations,)
        One HOG vector computed with ``cells_per_block=(1, 1)`` (any float dtype). Negative and
        non-finite values draw nothing (draw a signed vector with :func:`hog_glyph_signed`).
    cells_shape : (int, int)
        ``(cells_y, cells_x)``: number of HOG cells along rows and columns.
    orientations : int
        Number of orientation bins per cell.
    cell_px : int, optional
        Size of one cell's tile in the glyph, pixels (>= 3; default 24).
    vmax : float, optional
        The value drawn at full length (half the tile) and full brightness; larger values are
        clipped. Default: the largest value of ``features``. Pass the same ``vmax`` to several
        glyphs to make them comparable.

    Returns
    -------
    ndarray of uint8, shape (cells_y * cell_px, cells_x * cell_px)
        Black background; each segment's brightness is ``255 * value / vmax``; where segments
        cross, the brighter one wins.
    """
    f, cy, cx, n_or, cell_px = _check(features, cells_shape, orientations, cell_px)
    f = np.where(np.isfinite(f) & (f > 0), f, 0.0)
    if vmax is None:
        vmax = float(f.max()) if f.size else 0.0
    elif not np.isfinite(vmax) or vmax < 0:
        raise InputError(f"hog_glyph: vmax must be a finite number >= 0; got {vmax!r}")
    img = np.zeros((cy * cell_px, cx * cell_px), dtype=np.uint8)
    if vmax <= 0:
        return img
    frac = np.clip(f / vmax, 0.0, 1.0).reshape(cy, cx, n_or)
    # Edge direction of each bin: perpendicular to the gradient at angle theta.
    theta = np.pi * (np.arange(n_or) + 0.5) / n_or
    d_row, d_col = np.cos(theta), -np.sin(theta)
    half = (cell_px - 1) / 2.0
    rows, cols, o = np.nonzero(frac > 0)
    if rows.size == 0:
        return img
    value = frac[rows, cols, o]
    centre_r = rows * cell_px + half
    centre_c = cols * cell_px + half
    length = value * half  # half-length of each segment, pixels
    t = np.linspace(-1.0, 1.0, 4 * cell_px + 1)
    rr = np.rint(centre_r[:, None] + t[None, :] * (length * d_row[o])[:, None]).astype(np.intp)
    cc = np.rint(centre_c[:, None] + t[None, :] * (length * d_col[o])[:, None]).astype(np.intp)
    level = np.broadcast_to(np.rint(255.0 * value)[:, None], rr.shape).astype(np.uint8)
    np.maximum.at(img, (rr.ravel(), cc.ravel()), level.ravel())
    return img


def hog_glyph_signed(
    features: np.ndarray,
    *,
    cells_shape: tuple[int, int],
    orientations: int,
    cell_px: int = 24,
    vmax: float | None = None,
) -> np.ndarray:
    """Draw a signed HOG vector (e.g. emotion minus neutral) in two colours.

    Parameters
    ----------
    features, cells_shape, orientations, cell_px
        As for :func:`hog_glyph`.
    vmax : float, optional
        Absolute value drawn at full length; default the largest ``abs(features)``.

    Returns
    -------
    ndarray of uint8, shape (cells_y * cell_px, cells_x * cell_px, 3)
        RGB image: positive bins (stronger than the reference) in orange-red, negative bins in
        blue, on a black background.
    """
    f = np.asarray(features, dtype=np.float64)
    f = np.where(np.isfinite(f), f, 0.0)
    if vmax is None:
        vmax = float(np.abs(f).max()) if f.size else 0.0
    kw = {"cells_shape": cells_shape, "orientations": orientations, "cell_px": cell_px}
    pos = hog_glyph(np.clip(f, 0, None), vmax=vmax, **kw).astype(np.float64) / 255.0
    neg = hog_glyph(np.clip(-f, 0, None), vmax=vmax, **kw).astype(np.float64) / 255.0
    red = np.array([1.0, 0.45, 0.1])
    blue = np.array([0.25, 0.6, 1.0])
    rgb = pos[..., None] * red + neg[..., None] * blue
    return np.clip(np.rint(255.0 * rgb), 0, 255).astype(np.uint8)
