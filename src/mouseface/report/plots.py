"""Interactive report figures: plotly Figures whose JSON the page renders with plotly.js.

Every trace a filter acts on carries ``meta = {"animal", "state", "emotion", ...}`` (absent keys
match any filter value); the page's script (``templates/report.js``) shows or hides traces and
recomputes means from that. :func:`figure_json` serialises a Figure for a
``<script type="application/json">`` block. Static HOG glyph figures stay matplotlib PNGs
(:mod:`mouseface.report.prototype_figures`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from mouseface.report._traces import Trace
from mouseface.stats import spearman

__all__ = [
    "PLOT_CONFIG",
    "figure_json",
    "json_for_script",
    "rounded",
    "locked_traces_plot",
    "session_strength_plot",
    "confusion_plot",
    "similarity_plot",
    "dose_response_plot",
]

#: plotly.js options of every figure (no plotly logo link, no editing, PNG download).
PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"],
}

_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"}


def json_for_script(obj: Any) -> str:
    """``obj`` as JSON safe inside an HTML ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def figure_json(fig: go.Figure) -> str:
    """The figure's ``{"data", "layout"}`` JSON, safe to embed in a ``<script>`` element.

    NaN become ``null`` (plotly draws gaps); the JSON carries no template (the page's layout
    defaults are set in the figure itself).
    """
    return json_for_script(pio.to_json(fig, validate=False, pretty=False, engine="json"))


def rounded(x: np.ndarray | Sequence[float], digits: int = 4) -> list[float | None]:
    """Floats rounded to ``digits`` decimals for the page, NaN/inf as ``None`` (JSON null)."""
    a = np.asarray(x, dtype=float)
    return [float(v) if np.isfinite(v) else None for v in np.round(a, digits)]


def _layout(fig: go.Figure, *, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        template="none",
        height=height,
        margin={"l": 60, "r": 20, "t": 60 if title else 40, "b": 50},
        font={**_FONT, "size": 12},
        hovermode="closest",
        legend={"orientation": "h", "y": 1.08, "x": 0, "font": {"size": 11}},
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    if title:
        fig.update_layout(title={"text": title, "x": 0, "font": {"size": 13}})
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _band_traces(
    t: np.ndarray,
    mean: np.ndarray,
    sem: np.ndarray,
    *,
    colour: str,
    name: str,
    meta: Mapping[str, Any],
    xaxis: str,
    yaxis: str,
    showlegend: bool,
) -> list[go.Scatter]:
    """Upper bound, lower bound (filled to the upper one) and the mean line."""
    common = {"x": rounded(t, 4), "xaxis": xaxis, "yaxis": yaxis, "legendgroup": name}
    hi = go.Scatter(
        **common,
        y=rounded(mean + sem),
        mode="lines",
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        meta={**meta, "role": "hi"},
    )
    lo = go.Scatter(
        **common,
        y=rounded(mean - sem),
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor=_rgba(colour, 0.22),
        hoverinfo="skip",
        showlegend=False,
        meta={**meta, "role": "lo"},
    )
    line = go.Scatter(
        **common,
        y=rounded(mean),
        mode="lines",
        name=name,
        line={"color": colour, "width": 2},
        showlegend=showlegend,
        meta={**meta, "role": "mean"},
        hovertemplate="%{x:.2f} s: %{y:.3f}<extra>" + name + "</extra>",
    )
    return [hi, lo, line]


def _axis_name(kind: str, i: int) -> str:
    return kind if i == 1 else f"{kind}{i}"


def locked_traces_plot(
    traces: Mapping[str, Trace],
    change: Mapping[str, Trace],
    *,
    windows: Mapping[str, tuple[float, float]],
    colours: Mapping[str, str],
    ncols: int = 3,
) -> go.Figure:
    """Stimulus-locked strength of each emotion's own trials, mean +- SEM (one panel each).

    Parameters
    ----------
    traces : mapping
        ``{emotion: Trace of strength_<emotion> around that emotion's trial onsets}``.
    change : mapping
        ``{emotion: Trace of change}``, drawn together in a last panel when not empty.
    windows : mapping
        ``{"baseline": (a, b), "response": (a, b)}`` in seconds, shaded in every panel.
    colours : mapping
        Colour of each emotion.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces in groups of three (``meta.role`` ``hi``, ``lo``, ``mean``) with ``meta.panel``
        (the trials' emotion), ``meta.emotion`` and ``meta.column`` (``strength`` or
        ``change``), so the page can recompute them for a subset of trials.
    """
    panels = list(traces) + (["change"] if change else [])
    ncols = max(1, min(ncols, len(panels)))
    nrows = -(-len(panels) // ncols)
    titles = [f"{e} trials (n = {traces[e].values.shape[0]})" for e in traces]
    if change:
        titles.append("change (1 - r with neutral)")
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=titles,
        horizontal_spacing=0.07,
        vertical_spacing=0.16 if nrows > 1 else 0.1,
    )
    # (panel, emotion, trace, column): one panel per emotion's strength, then every emotion's
    # change together in the last panel (the only traces in the legend)
    bands = [(i, emo, tr, "strength") for i, (emo, tr) in enumerate(traces.items(), start=1)]
    bands += [(len(panels), emo, tr, "change") for emo, tr in (change or {}).items()]
    for i, emo, tr, column in bands:
        for t in _band_traces(
            tr.t,
            tr.mean,
            tr.sem,
            colour=colours.get(emo, "#333333"),
            name=emo,
            meta={"panel": emo, "emotion": emo, "column": column},
            xaxis=_axis_name("x", i),
            yaxis=_axis_name("y", i),
            showlegend=column == "change",
        ):
            fig.add_trace(t)
    for i in range(1, len(panels) + 1):
        xref, yref = _axis_name("x", i), _axis_name("y", i)
        for name, colour in (("baseline", "#9ecae1"), ("response", "#fdae6b")):
            if name in windows:
                a, b = windows[name]
                fig.add_shape(
                    type="rect",
                    xref=xref,
                    yref=f"{yref} domain",
                    x0=a,
                    x1=b,
                    y0=0,
                    y1=1,
                    fillcolor=colour,
                    opacity=0.25,
                    line={"width": 0},
                    layer="below",
                )
        fig.add_shape(
            type="line",
            xref=xref,
            yref=f"{yref} domain",
            x0=0,
            x1=0,
            y0=0,
            y1=1,
            line={"color": "black", "width": 1, "dash": "dash"},
        )
    fig.update_xaxes(title_text="time from onset (s)", showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False)
    for r in range(1, nrows + 1):
        fig.update_yaxes(title_text="strength (r)", row=r, col=1)
    if change:
        n = len(panels)
        fig.update_yaxes(title_text="change", row=(n - 1) // ncols + 1, col=(n - 1) % ncols + 1)
    return _layout(fig, height=300 * nrows + 60)


def session_strength_plot(
    frames: Mapping[str, pd.DataFrame],
    trials: pd.DataFrame | None,
    *,
    emotions: Sequence[str],
    sessions: Mapping[str, Mapping[str, str]],
    colours: Mapping[str, str],
    max_points: int = 1500,
) -> go.Figure:
    """Per-frame strength of every emotion over each session, stimuli shaded.

    Each session's frames are averaged in at most ``max_points`` consecutive bins (good frames
    only; a bin without one is a gap). Every trace's ``customdata`` is the video frame index at
    the middle of its bin, which the page uses to show that frame's face crop on hover. Only
    the first session is visible; the page switches sessions.

    Parameters
    ----------
    frames : mapping
        ``{session: frames table}`` with ``frame``, ``time`` (s), ``strength_<emotion>`` and
        optionally ``good``.
    trials : DataFrame or None
        ``session``, ``onset``, ``duration`` (s), ``emotion``: shaded stimulus periods
        (``duration`` 0 or missing: 1 s).
    emotions : sequence of str
        Emotions to draw (those with a ``strength_<emotion>`` column).
    sessions : mapping
        ``{session: {"animal": ..., "state": ...}}`` copied into each trace's ``meta``.
    colours : mapping
        Colour of each emotion.
    max_points : int
        Largest number of points per session and emotion.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per (session, emotion) with ``meta = {"session", "animal", "state",
        "emotion"}``; ``layout.meta.stimuli`` holds ``{session: [[t0, t1, emotion], ...]}``
        (drawn as shapes for the visible session).
    """
    fig = go.Figure()
    stimuli: dict[str, list[list[Any]]] = {}
    first = None
    for sid, df in frames.items():
        cols = [e for e in emotions if f"strength_{e}" in df]
        if not cols or "time" not in df:
            continue
        first = sid if first is None else first
        n = len(df)
        k = max(1, -(-n // max_points))
        bins = np.arange(n) // k
        good = df["good"].to_numpy(dtype=bool) if "good" in df else np.ones(n, bool)
        frame = df["frame"].to_numpy(np.int64) if "frame" in df else np.arange(n)
        time = df["time"].to_numpy(float)
        nb = int(bins[-1]) + 1 if n else 0
        mid = np.minimum(np.arange(nb) * k + k // 2, n - 1)
        t_bin = np.bincount(bins, weights=time, minlength=nb) / np.bincount(bins, minlength=nb)
        info = dict(sessions.get(sid) or {})
        for e in cols:
            v = df[f"strength_{e}"].to_numpy(float)
            ok = good & np.isfinite(v)
            s = np.bincount(bins[ok], weights=v[ok], minlength=nb)
            c = np.bincount(bins[ok], minlength=nb)
            y = np.where(c > 0, s / np.maximum(c, 1), np.nan)
            fig.add_trace(
                go.Scatter(
                    x=rounded(t_bin, 2),
                    y=rounded(y, 3),
                    customdata=frame[mid].tolist(),
                    mode="lines",
                    name=e,
                    legendgroup=e,
                    line={"color": colours.get(e, "#333333"), "width": 1.2},
                    visible=sid == first,
                    meta={"session": sid, "emotion": e, **info},
                    hovertemplate=e + " %{y:.3f} (frame %{customdata})<extra></extra>",
                )
            )
        rows: list[list[Any]] = []
        if trials is not None and {"session", "onset"} <= set(trials.columns):
            sub = trials[trials["session"].astype(str) == sid]
            for _, tr in sub.iterrows():
                dur = float(tr["duration"]) if "duration" in sub else np.nan
                dur = dur if np.isfinite(dur) and dur > 0 else 1.0
                onset = float(tr["onset"])
                rows.append([round(onset, 3), round(onset + dur, 3), str(tr.get("emotion", ""))])
        stimuli[sid] = rows
    fig.update_layout(
        meta={"stimuli": stimuli, "colours": dict(colours), "first": first},
        shapes=_stimulus_shapes(stimuli.get(first or "", []), colours),
        xaxis={"title": {"text": "time in session (s)"}, "showgrid": False},
        yaxis={"title": {"text": "strength (r)"}, "gridcolor": "#eeeeee"},
    )
    # hovering anywhere over a time shows every emotion there (and that frame's face)
    return _layout(fig, height=380).update_layout(hovermode="x unified")


def _stimulus_shapes(rows: Sequence[Sequence[Any]], colours: Mapping[str, str]) -> list[dict]:
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "y domain",
            "x0": a,
            "x1": b,
            "y0": 0,
            "y1": 1,
            "fillcolor": colours.get(str(e), "#999999"),
            "opacity": 0.18,
            "line": {"width": 0},
            "layer": "below",
            "name": str(e),
        }
        for a, b, e in rows
    ]


def confusion_plot(
    matrices: Mapping[tuple[str, str], pd.DataFrame], *, ncols: int = 2
) -> go.Figure:
    """Row-normalised confusion matrices as heatmaps, counts in the cells and on hover.

    Parameters
    ----------
    matrices : mapping
        ``{(decoder, level): counts}``, square DataFrames, true classes as the index and
        predicted classes as the columns.
    """
    keys = list(matrices)
    ncols = max(1, min(ncols, len(keys)))
    nrows = -(-len(keys) // ncols)
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[f"{d} ({lv})" for d, lv in keys],
        horizontal_spacing=0.2,
        vertical_spacing=0.3 if nrows > 1 else 0.1,
    )
    for i, key in enumerate(keys):
        cm = matrices[key]
        counts = cm.to_numpy(dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        frac = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        fig.add_trace(
            go.Heatmap(
                z=[rounded(r, 3) for r in frac],
                x=[str(c) for c in cm.columns],
                y=[str(c) for c in cm.index],
                text=[[str(int(v)) for v in r] for r in counts],
                texttemplate="%{text}",
                customdata=[[int(v) for v in r] for r in counts],
                zmin=0,
                zmax=1,
                colorscale="Blues",
                showscale=i == 0,
                colorbar={"title": {"text": "fraction of true class"}, "len": 0.8},
                hovertemplate=(
                    "true %{y}, predicted %{x}<br>%{customdata} frames/trials "
                    "(%{z:.0%} of true)<extra>" + f"{key[0]} ({key[1]})" + "</extra>"
                ),
                meta={"decoder": key[0], "level": key[1]},
            ),
            row=i // ncols + 1,
            col=i % ncols + 1,
        )
    fig.update_yaxes(autorange="reversed", title_text="true", title_standoff=4)
    fig.update_xaxes(title_text="predicted", tickangle=-40, title_standoff=4)
    _layout(fig, height=420 * nrows + 60)
    return fig.update_layout(margin={"l": 110, "b": 110})


def similarity_plot(r: np.ndarray, labels: Sequence[str]) -> go.Figure:
    """Pearson r between prototypes as an annotated heatmap.

    Parameters
    ----------
    r : ndarray, shape (k, k)
        Correlation matrix.
    labels : sequence of str
        Class names, in the order of ``r``'s rows.
    """
    fig = go.Figure(
        go.Heatmap(
            z=[rounded(row, 3) for row in np.asarray(r, float)],
            x=list(labels),
            y=list(labels),
            texttemplate="%{z:.2f}",
            colorscale="RdBu",
            reversescale=True,
            zmid=float(np.nanmedian(r)) if np.isfinite(r).any() else 0.0,
            colorbar={"title": {"text": "r"}},
            hovertemplate="%{y} vs %{x}: r = %{z:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    side = 120 + 48 * len(labels)
    return _layout(fig, height=max(320, side))


def _fmt_rho(rho: float) -> str:
    return "n/a" if not np.isfinite(rho) else f"{rho:+.2f}"


def dose_response_plot(trials: pd.DataFrame, *, colours: Mapping[str, str]) -> go.Figure:
    """Trial response against stimulus intensity: one panel per trial type, colour = animal.

    Parameters
    ----------
    trials : DataFrame
        trial_type, animal, intensity (finite), response; optional session, trial, state,
        emotion (copied to the hover text and to ``meta``).
    colours : mapping
        Colour of each animal.

    Returns
    -------
    plotly.graph_objects.Figure
        Per (trial type, animal, state): a marker trace of the trials and a line through the
        per-intensity means, with ``meta = {"animal", "state", "emotion", "trial_type"}``.
        Panel titles give Spearman's rho over all animals.
    """
    types = sorted(trials["trial_type"].astype(str).unique())
    ncols = max(1, min(3, len(types)))
    nrows = -(-len(types) // ncols)
    titles = []
    for tt in types:
        sub = trials[trials["trial_type"].astype(str) == tt]
        rho = spearman(sub["intensity"].to_numpy(float), sub["response"].to_numpy(float))
        titles.append(f"{tt} (all animals rho = {_fmt_rho(rho)})")
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=titles, horizontal_spacing=0.08)
    has_state = "state" in trials
    seen: set[str] = set()
    for i, tt in enumerate(types):
        sub = trials[trials["trial_type"].astype(str) == tt]
        keys = ["animal", "state"] if has_state else ["animal"]
        sub = sub.assign(animal=sub["animal"].astype(str))
        if has_state:
            sub = sub.assign(state=sub["state"].astype(object).where(sub["state"].notna(), ""))
            sub = sub.assign(state=sub["state"].astype(str))
        for key, g in sub.groupby(keys, sort=True):
            animal, state = (key[0], key[1]) if has_state else (key[0], "")
            c = colours.get(animal, "#333333")
            emo = str(g["emotion"].iloc[0]) if "emotion" in g else ""
            meta = {"animal": animal, "emotion": emo, "trial_type": tt}
            if state:
                meta["state"] = state
            rho = spearman(g["intensity"].to_numpy(float), g["response"].to_numpy(float))
            label = f"{animal}" + (f" ({state})" if state else "")
            text = [
                f"{r.get('session', '')} trial {r.get('trial', '')}"
                for r in g.to_dict(orient="records")
            ]
            fig.add_trace(
                go.Scatter(
                    x=rounded(g["intensity"], 4),
                    y=rounded(g["response"], 4),
                    mode="markers",
                    marker={"color": c, "size": 7, "opacity": 0.75},
                    name=label,
                    legendgroup=animal,
                    showlegend=animal not in seen,
                    text=text,
                    meta=meta,
                    hovertemplate=(
                        "%{text}<br>intensity %{x}<br>response %{y:.4f}<extra>"
                        + f"{label}: rho = {_fmt_rho(rho)} (n = {len(g)})"
                        + "</extra>"
                    ),
                ),
                row=i // ncols + 1,
                col=i % ncols + 1,
            )
            seen.add(animal)
            m = g.groupby("intensity")["response"].mean()
            fig.add_trace(
                go.Scatter(
                    x=rounded(m.index.to_numpy(float), 4),
                    y=rounded(m.to_numpy(float), 4),
                    mode="lines",
                    line={"color": c, "width": 1.2, "dash": "dot" if state else "solid"},
                    legendgroup=animal,
                    showlegend=False,
                    meta={**meta, "role": "mean"},
                    hovertemplate="mean at %{x}: %{y:.4f}<extra>" + label + "</extra>",
                ),
                row=i // ncols + 1,
                col=i % ncols + 1,
            )
    fig.update_xaxes(title_text="intensity", showgrid=False)
    fig.update_yaxes(title_text="response (change)", gridcolor="#eeeeee", zeroline=True)
    _layout(fig, height=340 * nrows + 60)
    legend = {"orientation": "v", "x": 1.02, "y": 1, "title": {"text": "animal"}}
    return fig.update_layout(legend=legend, margin={"r": 120})
