"""Report sections 2-6: each returns a dict for the template (title, notes, blocks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup
from markupsafe import escape as markup_escape

from mouseface.report import figures as fg
from mouseface.report import plots as pl
from mouseface.report import prototype_figures as pf
from mouseface.report._load import Outputs
from mouseface.report._traces import Trace, stimulus_locked

Section = dict[str, Any]


def section(sid: str, title: str) -> Section:
    """An empty section."""
    return {"id": sid, "title": title, "notes": [], "blocks": []}


def img(fig: Any, caption: str, alt: str, *, bid: str | None = None) -> dict[str, Any]:
    """An image block from a Figure (``bid``: the ``id`` of its ``<figure>``)."""
    block = {"kind": "img", "src": fg.png_data_uri(fig), "caption": caption, "alt": alt}
    return block if bid is None else {**block, "id": bid}


def plot(pid: str, fig: Any, caption: str, alt: str) -> dict[str, Any]:
    """An interactive block: a plotly Figure drawn into ``<div id=pid>`` by the page script."""
    return {
        "kind": "plot",
        "id": pid,
        "json": Markup(pl.figure_json(fig)),
        "caption": caption,
        "alt": alt,
    }


def data(did: str, obj: Any) -> dict[str, Any]:
    """A JSON data block (``<script type="application/json" id=did>``) for the page script."""
    return {"kind": "data", "id": did, "json": Markup(pl.json_for_script(obj))}


def table(
    df: pd.DataFrame,
    caption: str = "",
    *,
    index: bool = True,
    header: bool = True,
    fold_over: int = 15,
    bid: str | None = None,
) -> dict[str, Any]:
    """A table block (HTML escaped by pandas); folded in ``<details>`` past ``fold_over`` rows;
    ``bid`` is the ``id`` of the element around it."""
    html = df.to_html(border=0, classes="tbl", na_rep="–", index=index, header=header, escape=True)
    block = {
        "kind": "table",
        "html": Markup(html),
        "caption": caption,
        "rows": len(df),
        "folded": len(df) > fold_over,
    }
    return block if bid is None else {**block, "id": bid}


def text(s: str) -> dict[str, Any]:
    """A paragraph block."""
    return {"kind": "text", "text": s}


def windows_of(out: Outputs) -> dict[str, tuple[float, float]]:
    """Baseline and response windows (s) from the config, the defaults when absent."""
    win = dict(out.config.get("windows") or {})
    return {
        "baseline": tuple(win.get("baseline") or (-2.0, 0.0)),  # type: ignore[dict-item]
        "response": tuple(win.get("response") or (0.0, 2.0)),  # type: ignore[dict-item]
    }


def class_order(names: list[str], out: Outputs) -> list[str]:
    """Neutral first, then emotions in config / column order, then any others sorted."""
    pref = ["neutral"] + list(dict.fromkeys((out.config.get("emotions") or {}).values()))
    pref += out.emotions
    known = [n for n in dict.fromkeys(pref) if n in names]
    return known + sorted(n for n in names if n not in known)


def valid_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials flagged valid (all when there is no ``valid`` column)."""
    if "valid" in trials:
        return trials[trials["valid"].eq(True)]
    return trials


def _window_mean(tr: Trace, win: tuple[float, float]) -> np.ndarray:
    m = (tr.t >= win[0]) & (tr.t < win[1])
    v = tr.values[:, m]
    n = np.isfinite(v).sum(axis=1)
    s = np.where(np.isfinite(v), v, 0.0).sum(axis=1)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _mean_sem(x: np.ndarray) -> str:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "–"
    if x.size == 1:
        return f"{x[0]:.3f}"
    return f"{x.mean():.3f} ± {x.std(ddof=1) / np.sqrt(x.size):.3f}"


def traces_section(out: Outputs, colours: Mapping[str, str]) -> Section:
    """Section 2: stimulus-locked strength traces per emotion, and the change trace."""
    sec = section("traces", "Stimulus-locked expression strength")
    emotions = class_order(out.emotions, out)
    if out.trials is None or not out.frames:
        missing = "trials.parquet" if out.trials is None else "sessions/<id>/frames.parquet"
        sec["notes"].append(f"Skipped: {missing} not found in the output folder.")
        return sec
    need = {"session", "onset", "emotion"} - set(out.trials.columns)
    if need or not emotions:
        why = f"trials.parquet lacks {sorted(need)}" if need else "no strength_<emotion> columns"
        sec["notes"].append(f"Skipped: {why}.")
        return sec
    trials = valid_trials(out.trials)
    rates = [f for s in out.frames if (f := out.fps(s)) is not None]
    fps = float(np.median(rates)) if rates else 30.0
    win = windows_of(out)
    span = (min(win["baseline"][0], win["response"][0]), win["response"][1] + 2.0)
    own: dict[str, Trace] = {}
    change: dict[str, Trace] = {}
    rows = []
    per_trial: dict[str, list[Any]] = {"trials": [], "strength": [], "change": []}
    has_change = any("change" in df for df in out.frames.values())
    for emo in emotions:
        col = f"strength_{emo}"
        sub = trials[trials["emotion"].astype(str) == emo]
        # only trials whose session has the column, so that rows line up with the trials
        sub = sub[[col in out.frames.get(str(s), ()) for s in sub["session"]]]
        if sub.empty:
            sec["notes"].append(f"No valid {emo} trials: panel left out.")
            continue
        own[emo] = stimulus_locked(sub, out.frames, col, span=span, fps=fps)
        ch = None
        if has_change:
            ch = stimulus_locked(sub, out.frames, "change", span=span, fps=fps)
            if ch.values.shape[0] == own[emo].values.shape[0]:
                change[emo] = ch
            else:  # some sessions lack change: leave the per-trial change out
                ch = None
        for k, (_, tr) in enumerate(sub.iterrows()):
            per_trial["trials"].append(
                {
                    "session": str(tr["session"]),
                    "animal": _text(tr.get("animal")),
                    "state": _text(tr.get("state")),
                    "emotion": emo,
                }
            )
            per_trial["strength"].append(pl.rounded(own[emo].values[k]))
            per_trial["change"].append(pl.rounded(ch.values[k]) if ch is not None else None)
        base = _window_mean(own[emo], win["baseline"])
        resp = _window_mean(own[emo], win["response"])
        rows.append(
            {
                "trials of": emo,
                "n": own[emo].values.shape[0],
                "baseline": _mean_sem(base),
                "response window": _mean_sem(resp),
                "response - baseline": _mean_sem(resp - base),
            }
        )
    if not own:
        return sec
    t_axis = next(iter(own.values())).t
    per_trial["t"] = pl.rounded(t_axis, 4)
    fig = pl.locked_traces_plot(own, change, windows=win, colours=colours)
    cap = (
        f"Per-frame strength (Pearson r with each emotion's prototype) around the onset of "
        f"each emotion's trials, good frames only, {1 / fps:.3g}-s bins: mean ± SEM across "
        f"trials of the trials' own emotion (the filters above recompute it for the chosen "
        f"animal and state). Blue: baseline window {list(win['baseline'])} s; orange: "
        f"response window {list(win['response'])} s."
    )
    sec["blocks"].append(plot("fig-traces-locked", fig, cap, "stimulus-locked strength traces"))
    sec["blocks"].append(data("locked-data", per_trial))
    tbl = pd.DataFrame(rows)
    sec["blocks"].append(
        table(
            tbl,
            "Strength of the trials' own emotion (mean over each "
            "window): mean ± SEM across trials (all animals and states).",
            index=False,
            bid="traces-summary",
        )
    )
    return sec


def _text(v: Any) -> str:
    """A table value as text for the page ('' when missing)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return ""
    return str(v)


def prototypes_section(out: Outputs, colours: Mapping[str, str]) -> Section:
    """Section 3: pooled prototypes as HOG glyphs, the example face, emotion - neutral."""
    sec = section("prototypes", "Expression prototypes")
    ds = out.prototypes
    if ds is None or "prototype" not in ds:
        sec["notes"].append("Skipped: prototypes.nc (variable 'prototype') not found.")
        return sec
    a = ds.attrs
    try:
        n_or, cy, cx = int(a["orientations"]), int(a["cells_y"]), int(a["cells_x"])
        ppc = (int(a["pixels_per_cell_y"]), int(a["pixels_per_cell_x"]))
    except (KeyError, TypeError, ValueError):
        sec["notes"].append("Glyphs skipped: prototypes.nc lacks the HOG grid attributes.")
        return sec
    cpb = tuple((out.config.get("hog") or {}).get("cells_per_block") or (1, 1))
    if "cells_per_block_y" in a:
        cpb = (int(a["cells_per_block_y"]), int(a.get("cells_per_block_x", 1)))
    sets = str(a.get("feature_sets", "hog")).split(",")
    if "hog" not in sets:
        sec["notes"].append(f"Glyphs skipped: the run's features ({sets}) hold no HOG.")
        return sec
    cols = a.get("hog_columns")
    hog_cols = slice(int(cols[0]), int(cols[1])) if cols is not None else slice(None)
    n_feat = len(range(ds["prototype"].shape[-1])[hog_cols])
    if cpb != (1, 1) or n_feat != cy * cx * n_or:
        sec["notes"].append(
            f"Glyphs skipped: the HOG was computed with cells_per_block={list(cpb)} "
            f"({n_feat} features), glyphs need cells_per_block=(1, 1)."
        )
        return sec
    names = class_order([str(e) for e in ds["emotion"].values], out)
    protos = {n: ds["prototype"].sel(emotion=n).to_numpy()[hog_cols].astype(float) for n in names}
    protos = {n: v for n, v in protos.items() if np.isfinite(v).any()}
    face = ds["example_face"].to_numpy() if "example_face" in ds else None
    kw = {
        "cells_shape": (cy, cx),
        "orientations": n_or,
        "pixels_per_cell": ppc,
        "colours": colours,
    }
    fig = pf.prototype_figure(protos, face, **kw)
    cap = (
        f"Pooled prototypes drawn as HOG glyphs ({cy} x {cx} cells of {ppc[0]} x {ppc[1]} px, "
        f"{n_or} orientations): each segment runs along the edge its orientation bin stands "
        "for, its length and brightness proportional to the bin value, one scale for all."
    )
    sec["blocks"].append(img(fig, cap, "prototype HOG glyphs", bid="img-prototypes"))
    if "neutral" in protos and len(protos) > 1:
        fig = pf.difference_figure(protos, face, **kw)
        cap = (
            "Emotion prototype minus neutral prototype over the example face: orange segments "
            "are edge orientations stronger than in the neutral face, blue ones weaker; "
            "length and opacity give the size of the difference (one scale for all panels)."
        )
        sec["blocks"].append(
            img(fig, cap, "prototype minus neutral glyphs", bid="img-prototype-differences")
        )
    else:
        sec["notes"].append("No neutral prototype: differences from neutral not drawn.")
    return sec


def similarity_section(out: Outputs, colours: Mapping[str, str]) -> Section:
    """Section 5: Pearson r between pooled prototypes; cross-animal clustering."""
    sec = section("similarity", "Prototype similarity")
    ds = out.prototypes
    if ds is None:
        sec["notes"].append("Skipped: prototypes.nc not found.")
        return sec
    if "similarity" in ds:
        labels = [str(e) for e in ds["emotion"].values]
        r = ds["similarity"].to_numpy().astype(float)
    elif "prototype" in ds:
        labels = [str(e) for e in ds["emotion"].values]
        r = np.corrcoef(ds["prototype"].to_numpy().astype(float))
    else:
        sec["notes"].append("Skipped: prototypes.nc has neither 'similarity' nor 'prototype'.")
        return sec
    order = [labels.index(n) for n in class_order(labels, out)]
    labels, r = [labels[i] for i in order], r[np.ix_(order, order)]
    fig = pl.similarity_plot(r, labels)
    sec["blocks"].append(
        plot("fig-similarity", fig, "Pearson r between pooled prototypes.", "similarity matrix")
    )
    if "animal_prototype" not in ds:
        sec["notes"].append("No per-animal prototypes (animal_prototype): clustering skipped.")
        return sec
    ap = ds["animal_prototype"].transpose("animal", "emotion", "feature")
    emos = [str(e) for e in ap["emotion"].values]
    rows, rr = pf.cross_animal(ap.to_numpy(), [str(x) for x in ap["animal"].values], emos)
    if len(rows) < 3:
        sec["notes"].append("Fewer than 3 per-animal prototypes: clustering skipped.")
        return sec
    fig = pf.cross_animal_figure(rows, rr, colours=colours)
    sec["blocks"].append(
        img(
            fig,
            "Per-animal prototypes (rows animal:emotion), ordered by "
            "average-linkage clustering on 1 - r.",
            "cross-animal similarity",
            bid="img-cross-animal",
        )
    )
    hits, n = pf.nearest_same_emotion(rows, rr)
    if n:
        k = len(set(e for _, e in rows))
        sec["blocks"].append(
            text(
                f"Emotion specificity across animals: for {hits} of {n} per-animal "
                f"prototypes ({100 * hits / n:.0f}%) the most similar prototype of another "
                f"animal has the same emotion (chance about {100 / k:.0f}% with {k} classes)."
            )
            | {"id": "similarity-specificity"}
        )
    return sec


def trials_section(out: Outputs, colours: Mapping[str, str]) -> Section:
    """Section 6: dose-response per animal and the trial counts table."""
    sec = section("trials", "Trials")
    t = out.trials
    if t is None:
        sec["notes"].append("Skipped: trials.parquet not found.")
        return sec
    if {"intensity", "response", "trial_type", "animal"} <= set(t.columns):
        d = valid_trials(t)
        d = d[np.isfinite(d["intensity"].astype(float)) & np.isfinite(d["response"].astype(float))]
        levels = d.groupby(d["trial_type"].astype(str))["intensity"].nunique()
        graded = sorted(levels.index[levels > 1])
        if d.empty:
            sec["notes"].append("No trial has an intensity: dose-response plot skipped.")
        elif not graded:
            sec["notes"].append("No trial type has two or more intensities: dose-response skipped.")
        else:
            if flat := sorted(levels.index[levels <= 1]):
                sec["notes"].append(f"One intensity only (not plotted): {', '.join(flat)}.")
            animals = sorted(t["animal"].astype(str).unique())
            fig = pl.dose_response_plot(
                d[d["trial_type"].astype(str).isin(graded)], colours=fg.emotion_colours(animals)
            )
            cap = (
                "Trial response (mean change in the response window minus baseline) against "
                "stimulus intensity, per animal (valid trials); lines join per-intensity means "
                "(dotted: per internal state); Spearman rho per animal on hover, over all "
                "animals in the panel titles."
            )
            sec["blocks"].append(plot("fig-dose-response", fig, cap, "dose-response"))
    else:
        sec["notes"].append("No intensity column: dose-response plot skipped.")
    if {"trial_type", "animal"} <= set(t.columns):
        ct = pd.crosstab(
            t["trial_type"].astype(str), t["animal"].astype(str), margins=True, margins_name="total"
        )
        ct.columns.name = None
        ct = ct.rename_axis("trial type / animal").reset_index()
        cap = "Trials per trial type and animal."
        if "valid" in t and not t["valid"].eq(True).all():
            n_bad = int((~t["valid"].eq(True)).sum())
            cap += f" {n_bad} trial(s) flagged invalid are counted here but left out of the plots."
        sec["blocks"].append(table(ct, cap, index=False, bid="trials-counts"))
    if {"state", "response", "trial_type"} <= set(t.columns):
        s = valid_trials(t).dropna(subset=["state"])
        n_states = s.groupby("trial_type")["state"].nunique()
        s = s[s["trial_type"].isin(n_states.index[n_states > 1])]
        if not s.empty:
            g = s.groupby(["trial_type", "state"])["response"]
            tbl = pd.DataFrame({"n": g.size(), "mean response": g.mean().round(4)})
            tbl = tbl.reset_index().rename(columns={"trial_type": "trial type"})
            cap = "Response (valid trials) by internal state, for trial types seen in several."
            sec["blocks"].append(table(tbl, cap, index=False, bid="trials-by-state"))
    sec["blocks"].append(trials_table(t))
    return sec


#: Columns of the sortable trials table, in this order when present.
TRIAL_COLUMNS = (
    "session",
    "animal",
    "trial",
    "trial_type",
    "emotion",
    "intensity",
    "state",
    "onset",
    "valid",
    "response",
    "predicted",
)


def _cell(v: Any) -> tuple[str, str]:
    """Shown text and sort value of one table cell."""
    if isinstance(v, bool | np.bool_):
        return ("yes" if v else "no"), ("1" if v else "0")
    if isinstance(v, int | np.integer):
        return str(v), str(v)
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "–", ""
        return f"{v:.4g}", repr(float(v))
    text = _text(v)
    return (text or "–"), text


def trials_table(trials: pd.DataFrame) -> dict[str, Any]:
    """The trials as a sortable, filterable HTML table (``<table id="trials-table">``).

    Each row carries ``data-animal``, ``data-emotion`` and ``data-state`` for the page's
    filters; each cell a ``data-value`` to sort on (numbers numerically).
    """
    cols = [c for c in TRIAL_COLUMNS if c in trials.columns]
    esc = markup_escape
    head = "".join(f'<th scope="col" title="click to sort">{esc(c)}</th>' for c in cols)
    body = []
    for rec in trials[cols].to_dict(orient="records"):
        attrs = " ".join(
            f'data-{k}="{esc(_text(rec.get(k)))}"' for k in ("animal", "emotion", "state")
        )
        cells = []
        for c in cols:
            shown, value = _cell(rec[c])
            cells.append(f'<td data-value="{esc(value)}">{esc(shown)}</td>')
        body.append(f"<tr {attrs}>{''.join(cells)}</tr>")
    html = (
        '<table class="tbl sortable" id="trials-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
    return {
        "kind": "table",
        "html": Markup(html),
        "caption": "All trials (click a column header to sort; the filters above apply).",
        "rows": len(trials),
        "folded": False,
        "id": "trials-table-block",
        "count_id": "trials-count",
    }
