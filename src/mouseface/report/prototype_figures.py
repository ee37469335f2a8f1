"""Prototype figures: HOG glyphs with the example face, and cross-animal clustering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from mouseface.report.figures import new_figure
from mouseface.report.glyphs import hog_glyph, hog_glyph_signed


def _panels(n: int, *, ncols: int = 4, size: float = 2.7) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = new_figure(size * ncols, size * nrows * 0.95)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def _face_limits(ax, face: np.ndarray | None, extent: tuple[float, float, float, float]) -> None:
    h, w = face.shape if face is not None else (extent[2], extent[1])
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)


def prototype_figure(
    prototypes: Mapping[str, np.ndarray],
    example_face: np.ndarray | None,
    *,
    cells_shape: tuple[int, int],
    orientations: int,
    pixels_per_cell: tuple[int, int],
    colours: Mapping[str, str],
    cell_px: int = 24,
) -> Figure:
    """The example face and the glyph of each pooled prototype, on one scale.

    Parameters
    ----------
    prototypes : mapping
        ``{class name: HOG vector}``, each shape (cells_y * cells_x * orientations,).
    example_face : ndarray, shape (face_height, face_width), optional
        Mean face at the HOG input size, drawn in the first panel.
    cells_shape, orientations
        HOG grid, as for :func:`mouseface.report.hog_glyph`.
    pixels_per_cell : (int, int)
        HOG cell size in face pixels, to draw glyphs on the face's scale.
    colours : mapping
        Title colour of each class.
    cell_px : int, optional
        Glyph tile size, pixels.
    """
    names = list(prototypes)
    fig, axes = _panels(1 + len(names))
    cy, cx = cells_shape
    extent = (0, cx * pixels_per_cell[1], cy * pixels_per_cell[0], 0)
    kw = {"cells_shape": cells_shape, "orientations": orientations, "cell_px": cell_px}
    vmax = max(float(np.nanmax(v)) if np.isfinite(v).any() else 0.0 for v in prototypes.values())
    if example_face is not None:
        axes[0].imshow(example_face, cmap="gray")
        axes[0].set_title("example face", fontsize=10)
    else:
        axes[0].set_axis_off()
    for ax, name in zip(axes[1:], names, strict=True):
        glyph = hog_glyph(prototypes[name], vmax=vmax, **kw)
        ax.set_facecolor("black")
        ax.imshow(glyph, cmap="gray", extent=extent, vmin=0, vmax=255)
        _face_limits(ax, example_face, extent)
        ax.set_title(name, fontsize=10, color=colours.get(name, "k"))
    return fig


def difference_figure(
    prototypes: Mapping[str, np.ndarray],
    example_face: np.ndarray | None,
    *,
    cells_shape: tuple[int, int],
    orientations: int,
    pixels_per_cell: tuple[int, int],
    colours: Mapping[str, str],
    cell_px: int = 24,
) -> Figure:
    """Glyph of each emotion's prototype minus neutral, drawn over the dimmed example face.

    Parameters are those of :func:`prototype_figure`; ``prototypes`` must hold ``neutral``.
    Orange segments: orientations stronger than in the neutral face; blue: weaker; one scale
    for all panels (segments are drawn at full colour, their length and opacity give the size).
    """
    others = [n for n in prototypes if n != "neutral"]
    fig, axes = _panels(len(others))
    cy, cx = cells_shape
    extent = (0, cx * pixels_per_cell[1], cy * pixels_per_cell[0], 0)
    kw = {"cells_shape": cells_shape, "orientations": orientations, "cell_px": cell_px}
    diffs = {n: prototypes[n] - prototypes["neutral"] for n in others}
    dmax = max(float(np.nanmax(np.abs(d))) if np.isfinite(d).any() else 0.0 for d in diffs.values())
    for ax, name in zip(axes, others, strict=True):
        rgb = hog_glyph_signed(diffs[name], vmax=dmax, **kw).astype(float) / 255.0
        level = rgb.max(axis=-1, keepdims=True)
        rgba = np.concatenate([rgb / np.maximum(level, 1e-9), np.sqrt(level)], axis=-1)
        if example_face is not None:
            ax.imshow(example_face, cmap="gray", alpha=0.55)
        ax.set_facecolor("black")
        ax.imshow(np.clip(rgba, 0.0, 1.0), extent=extent)
        _face_limits(ax, example_face, extent)
        ax.set_title(f"{name} - neutral", fontsize=10, color=colours.get(name, "k"))
    return fig


def _vmin(r: np.ndarray) -> float:
    off = r[~np.eye(len(r), dtype=bool)]
    off = off[np.isfinite(off)]
    return float(min(off.min(), 0.99)) if off.size else 0.0


def cross_animal(
    animal_prototype: np.ndarray, animals: Sequence[str], emotions: Sequence[str]
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Rows ``(animal, emotion)`` with a prototype, and their Pearson r matrix.

    Parameters
    ----------
    animal_prototype : ndarray, shape (n_animals, n_emotions, n_features)
        NaN where an animal lacks an emotion.

    Returns
    -------
    rows : list of (str, str)
    r : ndarray of float, shape (n_rows, n_rows)
    """
    rows, vecs = [], []
    for a, animal in enumerate(animals):
        for e, emo in enumerate(emotions):
            v = np.asarray(animal_prototype[a, e], dtype=float)
            if np.isfinite(v).all() and np.ptp(v) > 0:
                rows.append((str(animal), str(emo)))
                vecs.append(v)
    if not vecs:
        return rows, np.empty((0, 0))
    x = np.stack(vecs)
    x = x - x.mean(axis=1, keepdims=True)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return rows, np.clip(x @ x.T, -1.0, 1.0)


def nearest_same_emotion(rows: Sequence[tuple[str, str]], r: np.ndarray) -> tuple[int, int]:
    """How many rows' most similar prototype *of another animal* has the same emotion.

    Returns
    -------
    (hits, n) : (int, int)
        ``n`` counts the rows that have at least one other animal to compare with.
    """
    hits = n = 0
    animals = np.array([a for a, _ in rows])
    emos = np.array([e for _, e in rows])
    for i in range(len(rows)):
        other = animals != animals[i]
        if not other.any():
            continue
        j = np.flatnonzero(other)[np.argmax(r[i, other])]
        hits += int(emos[j] == emos[i])
        n += 1
    return hits, n


def cross_animal_figure(
    rows: Sequence[tuple[str, str]], r: np.ndarray, *, colours: Mapping[str, str]
) -> Figure:
    """Dendrogram (average linkage on 1 - r) and the r matrix in dendrogram order."""
    from scipy.cluster.hierarchy import dendrogram, linkage
    from scipy.spatial.distance import squareform

    n = len(rows)
    dist = np.clip(1.0 - r, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    Z = linkage(squareform((dist + dist.T) / 2, checks=False), method="average")
    side = min(max(3.0, 0.28 * n + 1.5), 14.0)
    fig = new_figure(side + 2.2, side)
    gs = fig.add_gridspec(1, 2, width_ratios=[1, 4])
    ax_d = fig.add_subplot(gs[0, 0])
    ax_h = fig.add_subplot(gs[0, 1])
    d = dendrogram(
        Z, orientation="left", ax=ax_d, no_labels=True, color_threshold=0, above_threshold_color="k"
    )
    order = d["leaves"]  # bottom to top
    ax_d.set_ylim(0, 10 * n)
    ax_d.set_xlabel("1 - r")
    for side_name in ("top", "right", "left"):
        ax_d.spines[side_name].set_visible(False)
    ax_d.set_yticks([])
    ro = r[np.ix_(order, order)]
    labels = [f"{rows[i][0]}:{rows[i][1]}" for i in order]
    im = ax_h.imshow(ro, cmap="viridis", vmin=_vmin(r), vmax=1.0, origin="lower", aspect="auto")
    if n <= 16:
        for i in range(n):
            for j in range(n):
                ax_h.text(
                    j,
                    i,
                    f"{ro[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="black" if ro[i, j] > (_vmin(r) + 1) / 2 else "white",
                )
    fs = 8 if n <= 24 else 6
    ax_h.set_yticks(range(n), labels, fontsize=fs)
    ax_h.set_xticks(range(n), labels, rotation=90, fontsize=fs)
    for ticks in (ax_h.get_yticklabels(), ax_h.get_xticklabels()):
        for tick, i in zip(ticks, order, strict=True):
            tick.set_color(colours.get(rows[i][1], "k"))
    ax_h.yaxis.tick_right()
    fig.colorbar(im, ax=ax_h, shrink=0.6, label="Pearson r", location="top")
    return fig
