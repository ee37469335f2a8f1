"""Static report figures as ``matplotlib.figure.Figure`` objects (Agg canvas, never pyplot's state).

Each ``*_figure`` function takes tidy data and returns a new Figure; :func:`png_data_uri` turns
one into an embeddable ``data:image/png;base64`` URI. Glyph and clustering figures live in
:mod:`mouseface.report.prototype_figures`; the interactive (plotly) figures of the page in
:mod:`mouseface.report.plots`.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mouseface.stats import spearman

__all__ = [
    "png_data_uri",
    "emotion_colours",
    "new_figure",
    "accuracy_figure",
    "confusion_figure",
    "spearman",
]

_TAB10 = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#7f7f7f",
]


def new_figure(width: float, height: float) -> Figure:
    """A Figure (inches) with an Agg canvas and constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_data_uri(fig: Figure, *, dpi: int = 90) -> str:
    """Render ``fig`` to PNG and return it as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def emotion_colours(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per class name: gray for ``neutral``, tab10 colours for the others."""
    out: dict[str, str] = {}
    k = 0
    for name in names:
        if name == "neutral":
            out[name] = "#555555"
        elif name not in out:
            out[name] = _TAB10[k % 9]
            k += 1
    return out


def _grid(n: int, *, ncols: int = 3, w: float = 3.6, h: float = 2.6) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = new_figure(w * ncols, h * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def accuracy_figure(scores: pd.DataFrame, chance: Mapping[str, float]) -> Figure:
    """Accuracy and balanced accuracy per decoder and level: bar = mean, dots = folds.

    Parameters
    ----------
    scores : DataFrame
        Columns decoder, level, fold, metric (``accuracy`` / ``balanced_accuracy``), value.
    chance : mapping
        ``{level: chance level}`` drawn as a dashed line over that level's bars.
    """
    groups = scores[["decoder", "level"]].drop_duplicates().sort_values(["level", "decoder"])
    keys = list(groups.itertuples(index=False, name=None))
    fig = new_figure(max(4.5, 1.0 * len(keys) + 2.5) * 2, 3.2)
    axes = fig.subplots(1, 2, sharey=True)
    rng = np.random.default_rng(0)
    for ax, metric in zip(axes, ("accuracy", "balanced_accuracy"), strict=True):
        sub = scores[scores["metric"] == metric]
        for i, (dec, lev) in enumerate(keys):
            v = sub.loc[(sub["decoder"] == dec) & (sub["level"] == lev), "value"].to_numpy(float)
            v = v[np.isfinite(v)]
            if v.size == 0:
                continue
            ax.bar(
                i,
                v.mean(),
                width=0.6,
                color="#9ecae1" if lev == "frame" else "#fdd0a2",
                edgecolor="k",
                lw=0.6,
            )
            ax.scatter(i + rng.uniform(-0.15, 0.15, v.size), v, s=14, color="k", zorder=3)
            ax.text(i, 1.02, f"{v.mean():.2f}", ha="center", fontsize=8)
            if lev in chance:
                ax.plot([i - 0.35, i + 0.35], [chance[lev]] * 2, color="r", ls="--", lw=1)
        ax.set_xticks(range(len(keys)), [f"{d}\n{lv}" for d, lv in keys], fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_title(metric.replace("_", " "), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (held-out animals)")
    return fig


def confusion_figure(matrices: Mapping[tuple[str, str], pd.DataFrame], *, ncols: int = 3) -> Figure:
    """Row-normalised confusion matrices (colour) annotated with counts.

    Parameters
    ----------
    matrices : mapping
        ``{(decoder, level): counts}``, each a square DataFrame with true classes as the index
        and predicted classes as the columns (counts summed over folds).
    """
    fig, axes = _grid(len(matrices), ncols=ncols, w=3.9, h=3.5)
    for ax, ((dec, lev), cm) in zip(axes, matrices.items(), strict=True):
        counts = cm.to_numpy(dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        frac = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
        k = len(cm)
        for i in range(k):
            for j in range(k):
                ax.text(
                    j,
                    i,
                    f"{int(counts[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7 if k > 5 else 8,
                    color="white" if frac[i, j] > 0.6 else "black",
                )
        ax.set_xticks(range(k), cm.columns, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(k), cm.index, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{dec} ({lev})", fontsize=10)
    if matrices:
        fig.colorbar(im, ax=axes, shrink=0.6, label="fraction of true class")
    return fig
