"""Report section of the valence/arousal analysis (private)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt_ci, fmt_p, html_table

__all__ = ["valence_section"]


def _figure(quadrants: pd.DataFrame, trajectories: pd.DataFrame):
    fig = new_figure(8.5, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    colours = emotion_colours(["neutral", *trajectories["emotion"].unique()])
    for emo, g in trajectories.groupby("emotion", sort=False):
        g = g.dropna(subset=["valence", "arousal"])
        if g.empty:
            continue
        c = colours[emo]
        ax1.plot(g["valence"], g["arousal"], "-", color=c, lw=1.2, label=emo)
        on = g.iloc[(g["time"] - 0.0).abs().argmin()]
        ax1.plot(on["valence"], on["arousal"], "o", color=c, ms=3)
        pk = g.loc[g["arousal"].idxmax()]
        ax1.plot(pk["valence"], pk["arousal"], ">", color=c, ms=5)
    ax1.set_title("stimulus-locked trajectories (o onset, > peak arousal)", fontsize=9)
    for _, q in quadrants.iterrows():
        c = colours.get(q["emotion"], "#555555")
        ax2.errorbar(
            q["valence"],
            q["arousal"],
            xerr=[[q["valence"] - q["valence_ci_low"]], [q["valence_ci_high"] - q["valence"]]],
            yerr=[[q["arousal"] - q["arousal_ci_low"]], [q["arousal_ci_high"] - q["arousal"]]],
            fmt="o",
            color=c,
            ms=4,
            capsize=2,
        )
        ax2.annotate(q["emotion"], (q["valence"], q["arousal"]), fontsize=7, xytext=(3, 3),
                     textcoords="offset points")  # fmt: skip
    ax2.set_title("response-window means (CI)", fontsize=9)
    for ax in (ax1, ax2):
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.set_xlabel("valence")
        ax.set_ylabel("arousal")
    ax1.legend(fontsize=7, loc="upper left")
    return fig


def valence_section(
    quadrants: pd.DataFrame,
    contrasts: pd.DataFrame,
    trajectories: pd.DataFrame,
    *,
    pos: list[str],
    neg: list[str],
    opt: dict,
) -> str:
    """HTML ``<section>``: definitions, per-emotion means with CIs, contrasts, figure."""
    ci = int(round(100 * float(opt["ci"])))
    items = []
    for _, q in quadrants.iterrows():
        check = ""
        if q["expected_valence"] is not None and isinstance(q["valence_ok"], bool | np.bool_):
            check = f" (expected {q['expected_valence']}: {'yes' if q['valence_ok'] else 'no'})"
        items.append(
            f"<li>{html.escape(str(q['emotion']))}: valence "
            f"{fmt_ci(q['valence'], q['valence_ci_low'], q['valence_ci_high'])}{check}, arousal "
            f"{fmt_ci(q['arousal'], q['arousal_ci_low'], q['arousal_ci_high'])} "
            f"({int(q['n_trials'])} trials, {int(q['n_animals'])} animals)</li>"
        )
    for _, c in contrasts.iterrows():
        items.append(
            f"<li>arousal {html.escape(c['after'])} minus {html.escape(c['before'])}: "
            f"{fmt_ci(c['value'], c['ci_low'], c['ci_high'])}, within-animal permutation "
            f"{fmt_p(c['p_permutation'])} ({int(c['n_animals'])} animals)</li>"
        )
    img = figure_html(_figure(quadrants, trajectories), alt="valence and arousal")
    cols = ["emotion", "valence", "valence_ci_low", "valence_ci_high", "arousal",
            "arousal_ci_low", "arousal_ci_high", "n_trials"]  # fmt: skip
    return (
        "<section id='valence'><h2>Valence and arousal</h2>"
        "<p><i>Normalised strength</i> u = (r - b) / (1 - b), r the Pearson r of a frame with a "
        "prototype and b its median over the session's baseline frames (0 = the session's "
        "neutral face, 1 = the prototype). <i>Valence</i> = max u over positive emotions ("
        f"{html.escape(', '.join(pos) or 'none')}) minus max u over negative emotions ("
        f"{html.escape(', '.join(neg) or 'none')}), u clipped at 0. <i>Arousal</i> = the "
        "face's distance from the neutral prototype (1 - r) above its baseline median, in units "
        "of the mean distance of the animal's emotion prototypes from its neutral one. Means "
        f"over response windows with {ci}% hierarchical bootstrap CIs (animals, then "
        "trials); 'neutral' = the baseline windows.</p>"
        f"<ul>{''.join(items)}</ul>{img}"
        f"{html_table(quadrants[cols])}</section>"
    )
