"""Report figures as ``matplotlib.figure.Figure`` objects (Agg canvas, never pyplot's state).

Each ``*_figure`` function takes tidy data and returns a new Figure; :func:`png_data_uri` turns
one into an embeddable ``data:image/png;base64`` URI. Prototype and similarity figures live in
:mod:`mouseface.report.prototype_figures`.
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
from matplotlib.lines import Line2D

from mouseface.report._traces import Trace
from mouseface.stats import spearman

__all__ = [
    "png_data_uri",
    "emotion_colours",
    "new_figure",
    "traces_figure",
    "accuracy_figure",
    "confusion_figure",
    "dose_response_figure",
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


def _band(ax, trace: Trace, colour: str, label: str, *, bold: bool = True) -> None:
    mean, sem = trace.mean, trace.sem
    ax.plot(
        trace.t,
        mean,
        color=colour,
        lw=2.0 if bold else 0.9,
        label=label,
        alpha=1.0 if bold else 0.7,
    )
    if bold and np.isfinite(sem).any():
        ax.fill_between(trace.t, mean - sem, mean + sem, color=colour, alpha=0.25, lw=0)


def _windows(ax, windows: Mapping[str, tuple[float, float]]) -> None:
    if "baseline" in windows:
        ax.axvspan(*windows["baseline"], color="#9ecae1", alpha=0.18, lw=0)
    if "response" in windows:
        ax.axvspan(*windows["response"], color="#fdae6b", alpha=0.22, lw=0)
    ax.axvline(0.0, color="k", lw=0.8, ls="--")


def traces_figure(
    traces: Mapping[str, Mapping[str, Trace]],
    change: Mapping[str, Trace],
    *,
    windows: Mapping[str, tuple[float, float]],
    colours: Mapping[str, str],
) -> Figure:
    """Grid of stimulus-locked traces: one panel per emotion, and one of ``change``.

    Parameters
    ----------
    traces : mapping
        ``{emotion of the trials: {strength emotion: Trace}}``; the panel of emotion ``e`` draws
        ``strength_e`` bold with a mean +- SEM band and the other strengths as thin lines.
    change : mapping
        ``{emotion of the trials: Trace of change}`` drawn together in the last panel.
    windows : mapping
        ``{"baseline": (a, b), "response": (a, b)}`` in seconds, shaded.
    colours : mapping
        Colour of each emotion.
    """
    panels = list(traces) + (["change"] if change else [])
    fig, axes = _grid(len(panels), ncols=4, w=3.3, h=2.6)
    names = list(dict.fromkeys([e for tr in traces.values() for e in tr] + list(change)))
    for ax, emo in zip(axes, traces, strict=False):
        n = traces[emo][emo].values.shape[0] if emo in traces[emo] else 0
        for other, tr in traces[emo].items():
            if other != emo:
                _band(ax, tr, colours.get(other, "#999999"), other, bold=False)
        if emo in traces[emo]:
            _band(ax, traces[emo][emo], colours.get(emo, "k"), emo, bold=True)
        _windows(ax, windows)
        ax.set_title(f"{emo} trials (n = {n})", fontsize=10, color=colours.get(emo, "k"))
        ax.set_xlabel("time from onset (s)")
        ax.set_ylabel("strength (r)")
    if change:
        ax = axes[-1]
        for emo, tr in change.items():
            _band(ax, tr, colours.get(emo, "k"), emo)
        _windows(ax, windows)
        ax.set_title("change (1 - r with neutral)", fontsize=10)
        ax.set_xlabel("time from onset (s)")
        ax.set_ylabel("change")
    handles = [Line2D([], [], color=colours.get(e, "k"), lw=2.0) for e in names]
    fig.legend(
        handles,
        names,
        loc="outside upper center",
        ncols=min(len(names), 8),
        frameon=False,
        fontsize=9,
        title="strength of / trials of",
    )
    return fig


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


def _fmt_rho(rho: float) -> str:
    return "n/a" if not np.isfinite(rho) else f"{rho:+.2f}"


def dose_response_figure(trials: pd.DataFrame, *, colours: Mapping[str, str]) -> Figure:
    """``response`` vs ``intensity`` per trial type (panel) and animal (colour).

    Parameters
    ----------
    trials : DataFrame
        Columns trial_type, animal, intensity (finite), response.
    colours : mapping
        Colour of each animal. The legend gives Spearman's rho per animal.
    """
    types = sorted(trials["trial_type"].astype(str).unique())
    fig, axes = _grid(len(types), ncols=3, w=4.0, h=3.0)
    for ax, tt in zip(axes, types, strict=True):
        sub = trials[trials["trial_type"].astype(str) == tt]
        for animal, g in sub.groupby("animal", sort=True):
            x = g["intensity"].to_numpy(float)
            y = g["response"].to_numpy(float)
            rho = spearman(x, y)
            c = colours.get(str(animal), "k")
            ax.scatter(
                x,
                y,
                s=16,
                color=c,
                alpha=0.7,
                label=f"{animal}: rho = {_fmt_rho(rho)} (n = {len(g)})",
            )
            m = g.groupby("intensity")["response"].mean()
            ax.plot(m.index.to_numpy(float), m.to_numpy(float), color=c, lw=1.2)
        rho_all = spearman(sub["intensity"].to_numpy(float), sub["response"].to_numpy(float))
        ax.set_title(f"{tt} (all animals rho = {_fmt_rho(rho_all)})", fontsize=10)
        ax.set_xlabel("intensity")
        ax.set_ylabel("response (change)")
        ax.axhline(0, color="k", lw=0.6, alpha=0.5)
        ax.legend(fontsize=7, frameon=False)
    return fig
