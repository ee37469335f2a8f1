"""Report section of the change-of-meaning analysis (private)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt_ci, fmt_p, html_table

__all__ = ["meaning_section"]


def _figure(table: pd.DataFrame, classes: pd.DataFrame, own: str, toward: str):
    fig = new_figure(9.0, 3.2)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.4])
    t = table.copy()
    t["w_total"] = t[f"w_{own}"] + t[f"w_{toward}"]
    states = list(dict.fromkeys(t["state"]))
    for animal, g in t.groupby("animal"):
        agg = g.groupby("state")[[f"w_{toward}", "w_total"]].sum()
        share = (agg[f"w_{toward}"] / agg["w_total"]).reindex(states)
        ax1.plot(range(len(states)), share.to_numpy(), "o-", color="0.6", lw=1)
        ax1.annotate(str(animal), (len(states) - 1, share.iloc[-1]), fontsize=7)
    ax1.set_xticks(range(len(states)), states)
    ax1.set_ylabel(f"{toward} share of the face")
    ax1.set_ylim(-0.02, 1.02)
    ax1.set_title("per animal (lines)", fontsize=9)
    mean = classes.groupby(["state", "prototype"])["fraction"].mean().unstack(fill_value=0)
    mean = mean.reindex(states)
    order = ["neutral", own, toward] + [c for c in mean.columns if c not in (own, toward)]
    mean = mean[[c for c in dict.fromkeys(order) if c in mean.columns]]
    colours = emotion_colours(list(mean.columns))
    bottom = np.zeros(len(mean))
    for proto in mean.columns:
        ax2.bar(mean.index, mean[proto], bottom=bottom, color=colours[proto], label=proto)
        bottom += mean[proto].to_numpy()
    ax2.set_ylabel("fraction of response frames")
    ax2.set_title("best-matching emotion of response-window frames", fontsize=9)
    ax2.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def meaning_section(
    table: pd.DataFrame,
    effects: pd.DataFrame,
    classes: pd.DataFrame,
    *,
    own: str,
    toward: str,
    opt: dict,
) -> str:
    """HTML ``<section>`` with the numbers (intervals, p-values) and the figure."""
    ci = int(round(100 * float(opt["ci"])))
    stim = html.escape(str(opt["stimulus"]))
    ow, tw = html.escape(own), html.escape(toward)
    lines = []
    for _, e in effects.iterrows():
        unit = f"{toward} share" if e["metric"] == "share" else f"preference (Δr {own} - {toward})"
        lines.append(
            f"<li><b>{html.escape(e['comparison'])}</b> {html.escape(e['before'])} → "
            f"{html.escape(e['after'])}, {html.escape(unit)}: {e['before_value']:.3f} → "
            f"{e['after_value']:.3f}; change {fmt_ci(e['value'], e['ci_low'], e['ci_high'])} "
            f"({ci}% hierarchical bootstrap CI), standardised d = "
            f"{fmt_ci(e['d'], e['d_ci_low'], e['d_ci_high'], digits=2)}; within-animal "
            f"permutation {fmt_p(e['p_permutation'])}, animal sign-flip "
            f"{fmt_p(e['p_signflip'])} ({int(e['n_animals'])} animals, {int(e['n_before'])} → "
            f"{int(e['n_after'])} trials)</li>"
        )
    img = figure_html(_figure(table, classes, own, toward), alt="change of meaning")
    show = effects[["comparison", "metric", "before", "after", "value", "ci_low", "ci_high"]]
    return (
        f"<section id='meaning'><h2>Change of meaning: {stim}</h2>"
        f"<p>Does the face that {stim} evokes turn from its own prototype ({html.escape(own)}) "
        f"toward {html.escape(toward)}? Prototypes are rebuilt per animal from the reference "
        "trials (states not under test; a trial never shapes the prototype it is scored with). "
        f"Each trial's response (mean HOG of the response window minus its baseline) is split "
        "into a non-negative mix of every emotion's direction (prototype minus neutral); the "
        f"<i>{tw} share</i> = w_{tw} / (w_{ow} + w_{tw}) summed over an animal's trials (it "
        "hardly depends on response amplitude). <i>Preference</i> = baseline-corrected r with "
        f"{html.escape(own)} minus r with {html.escape(toward)} (it also scales with "
        "amplitude). The control compares two states without pairing.</p>"
        f"<ul>{''.join(lines)}</ul>"
        f"{img}"
        f"{html_table(show)}</section>"
    )
