"""Report section of the state analysis (private)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt, fmt_ci, fmt_p, html_table, section_html

__all__ = ["state_section"]


def _figure(effects: pd.DataFrame, animals: pd.DataFrame, readout: str):
    pairs = effects[["emotion", "state_a", "state_b"]].drop_duplicates().to_numpy().tolist()
    fig = new_figure(6.4, 2.5 * len(pairs))
    axes = np.atleast_2d(fig.subplots(len(pairs), 2, squeeze=False))
    colours = emotion_colours(sorted(animals["animal"].astype(str).unique()))
    for (emo, sa, sb), (ax1, ax2) in zip(pairs, axes, strict=True):
        sel = (animals["emotion"] == emo) & (animals["state_a"] == sa) & (animals["state_b"] == sb)
        g = animals[sel & (animals["readout"] == readout)]
        for _, r in g.iterrows():
            ax1.plot([0, 1], [r["mean_b"], r["mean_a"]], "-o", ms=3,
                     color=colours[str(r["animal"])], label=str(r["animal"]))  # fmt: skip
        ax1.set_xticks([0, 1], [sb, sa])
        ax1.set_xlim(-0.3, 1.3)
        ax1.set_ylabel(f"{readout} (mean per animal)")
        ax1.set_title(f"{emo}: {sa} vs {sb}", fontsize=8)
        ax1.legend(fontsize=6, frameon=False)
        e = effects[(effects["emotion"] == emo) & (effects["state_a"] == sa)
                    & (effects["state_b"] == sb)]  # fmt: skip
        y = np.arange(len(e))
        err = [np.clip(e["ratio"] - e["ratio_low"], 0, None),
               np.clip(e["ratio_high"] - e["ratio"], 0, None)]  # fmt: skip
        ax2.errorbar(e["ratio"], y, xerr=err, fmt="o", color="k", capsize=3)
        ax2.set_yticks(y, e["readout"])
        ax2.axvline(1.0, color="k", lw=0.6, ls=":")
        ax2.set_xlabel(f"ratio {sa} / {sb} (95% CI)")
    return fig


def state_section(tables: dict[str, pd.DataFrame], *, opt: dict, notes: list[str]) -> str:
    """HTML ``<section>`` of the state analysis: effects with intervals, figure, tables."""
    ci = f"{round(100 * opt['ci'])}%"
    eff = tables["effects"]
    parts = [
        "<p>Expression between internal states, paired by animal. Each animal's mean readout "
        "per state"
        + (" (mean over the intensities given in both states)" if opt["match_intensity"] else "")
        + f"; paired t-test, Wilcoxon signed-rank, Cohen's d<sub>z</sub>; {ci} intervals from "
        f"a two-level bootstrap ({opt['n_boot']} resamples of animals, then of trials). The "
        f"<b>{html.escape(opt['readout'])}</b> readout is the headline"
        + (
            ": the projection of the face's HOG change on the emotion's direction, "
            "proportional to the expression's amplitude, so the ratio of state means estimates "
            "the ratio of expression amplitudes."
            if opt["readout"] == "amplitude"
            else "."
        )
        + "</p>"
    ]
    items = []
    for _, r in eff[eff["primary"]].iterrows():
        items.append(
            f"<li><b>{html.escape(r['emotion'])}</b>, {html.escape(r['state_a'])} vs "
            f"{html.escape(r['state_b'])} ({r['n_animals']} animals, {r['n_trials_a']} + "
            f"{r['n_trials_b']} trials): ratio "
            f"{fmt_ci(r['ratio'], r['ratio_low'], r['ratio_high'])}, difference "
            f"{fmt_ci(r['diff'], r['diff_low'], r['diff_high'])}; t = "
            f"{fmt(r['t'])} ({fmt_p(r['p_t'])}), Wilcoxon {fmt_p(r['p_wilcoxon'])}, d<sub>z</sub>"
            f" = {fmt(r['dz'])}</li>"
        )
    parts.append("<ul>" + "".join(items) + "</ul>")
    parts.append(
        figure_html(
            _figure(eff, tables["animals"], opt["readout"]),
            alt="state comparison",
            caption=f"Left: per-animal means ({opt['readout']}). Right: ratio of state means "
            f"per readout with {ci} bootstrap interval.",
        )
    )
    cols = ["emotion", "state_a", "state_b", "readout", "n_animals", "ratio", "ratio_low",
            "ratio_high", "diff", "diff_low", "diff_high", "p_t", "p_wilcoxon", "dz"]  # fmt: skip
    parts.append("<details><summary>all readouts</summary>" + html_table(eff[cols]) + "</details>")
    if notes:
        parts.append("<p>Notes: " + html.escape("; ".join(notes)) + "</p>")
    return section_html("state", "Internal state", parts)
