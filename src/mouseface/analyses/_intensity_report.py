"""Report section of the intensity analysis (private)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt, fmt_ci, fmt_p, html_table, section_html

__all__ = ["intensity_section"]


def _dose_figure(levels: pd.DataFrame, spear: pd.DataFrame):
    types = list(dict.fromkeys(levels["trial_type"]))
    readouts = list(dict.fromkeys(levels["readout"]))
    fig = new_figure(3.3 * len(readouts), 2.6 * len(types))
    axes = np.atleast_2d(fig.subplots(len(types), len(readouts), squeeze=False))
    animals = sorted(set(levels["animal"]) - {"all"})
    colours = emotion_colours(animals)
    for i, tt in enumerate(types):
        for j, ro in enumerate(readouts):
            ax = axes[i, j]
            g = levels[(levels["trial_type"] == tt) & (levels["readout"] == ro)]
            for a, ga in g[g["animal"] != "all"].groupby("animal"):
                ax.plot(ga["intensity"], ga["mean"], "-o", ms=2.5, lw=0.9, alpha=0.7,
                        color=colours[str(a)], label=str(a))  # fmt: skip
            p = g[g["animal"] == "all"]
            err = [
                np.clip(p["mean"] - p["ci_low"], 0, None),
                np.clip(p["ci_high"] - p["mean"], 0, None),
            ]
            ax.errorbar(p["intensity"], p["mean"], yerr=err, fmt="-s", color="k", ms=3,
                        capsize=2, lw=1.4, label="all (95% CI)")  # fmt: skip
            s = spear[(spear["trial_type"] == tt) & (spear["readout"] == ro)]
            per = s[s["animal"] != "all"]["rho"]
            rho = f"rho per animal {fmt(per.min(), 2)}..{fmt(per.max(), 2)}" if len(per) else ""
            ax.set_title(f"{tt}: {ro}\n{rho}", fontsize=8)
            ax.set_xlabel("intensity")
            ax.axhline(0, color="k", lw=0.5, alpha=0.4)
            if i == 0 and j == 0:
                ax.legend(fontsize=6, frameon=False)
    return fig


def _roc(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-s, kind="stable")
    y = y[order]
    tpr = np.r_[0, np.cumsum(y) / max(y.sum(), 1)]
    fpr = np.r_[0, np.cumsum(~y) / max((~y).sum(), 1)]
    return fpr, tpr


def _roc_figure(per_trial: pd.DataFrame):
    types = list(dict.fromkeys(per_trial["trial_type"]))
    fig = new_figure(3.2 * len(types), 3.0)
    axes = np.atleast_1d(fig.subplots(1, len(types), squeeze=False)[0])
    for ax, tt in zip(axes, types, strict=True):
        g = per_trial[(per_trial["trial_type"] == tt) & (per_trial["class"] != "other")]
        g = g[np.isfinite(g["score"])]
        colours = emotion_colours(sorted(g["animal"].astype(str).unique()))
        for a, ga in g.groupby("animal"):
            fpr, tpr = _roc(ga["class"].eq("strong").to_numpy(), ga["score"].to_numpy())
            ax.plot(fpr, tpr, color=colours[str(a)], lw=1, label=f"{a} (held out)")
        fpr, tpr = _roc(g["class"].eq("strong").to_numpy(), g["score"].to_numpy())
        ax.plot(fpr, tpr, color="k", lw=1.6, label="all")
        ax.plot([0, 1], [0, 1], "k:", lw=0.6)
        ax.set(xlabel="false positive rate", ylabel="true positive rate")
        ax.set_title(f"{tt}: strong vs none, leave one animal out", fontsize=8)
        ax.legend(fontsize=6, frameon=False)
    return fig


def intensity_section(
    tables: dict[str, pd.DataFrame], *, opt: dict, notes: list[str], features: list[str]
) -> str:
    """HTML ``<section>`` of the intensity analysis: numbers with intervals, then figures."""
    ci = f"{round(100 * opt['ci'])}%"
    parts = [
        "<p>Dose-response of the face to stimulus intensity. Spearman's rho per animal and "
        f"over all trials with {ci} bootstrap intervals ({opt['n_boot']} resamples of trials); "
        "linear mixed model <code>readout ~ intensity (+ state) + (1 | animal)</code> (REML, "
        f"Wald {ci} interval). Readouts: <b>response</b> = mean change from the neutral face in "
        "the response window minus baseline; <b>strength</b> = Pearson r with the emotion's "
        "prototype, minus baseline; <b>amplitude</b> = projection of (HOG - session neutral) on "
        f"(the {html.escape(opt['direction'])} emotion prototype - neutral), 1 = prototype.</p>"
    ]
    mixed = tables["mixed"]
    items = []
    for _, r in mixed.iterrows():
        sp = tables["spearman"]
        s = sp[(sp["trial_type"] == r["trial_type"]) & (sp["readout"] == r["readout"])]
        per = ", ".join(
            f"{html.escape(str(x['animal']))} {fmt_ci(x['rho'], x['ci_low'], x['ci_high'], 2)}"
            for _, x in s[s["animal"] != "all"].iterrows()
        )
        items.append(
            f"<li><b>{html.escape(str(r['trial_type']))}, {html.escape(str(r['readout']))}</b>: "
            f"slope {fmt_ci(r['slope'], r['ci_low'], r['ci_high'])} per unit intensity "
            f"({fmt_p(r['p'])}, {r['n']} trials, {r['n_animals']} animals); Spearman rho per "
            f"animal: {per}</li>"
        )
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    if "decoder" in tables:
        d = tables["decoder"]
        auc = d[(d["metric"] == "auc")]
        lines = [
            f"<li>{html.escape(str(r['trial_type']))}, held out {html.escape(str(r['held_out']))}: "
            f"AUC {fmt_ci(r['value'], r['ci_low'], r['ci_high'])} ({r['n_strong']} strong "
            f"&ge; {fmt(r['strong_min'])}, {r['n_none']} none &le; {fmt(r['none_max'])})</li>"
            for _, r in auc.iterrows()
        ]
        parts.append(
            "<h3>Strong stimulus vs none, leave one animal out</h3><p>Logistic regression "
            f"(L2, C = {opt['decoder_C']}) on per-trial features from the trial's own frames "
            f"({html.escape(', '.join(features))}), standardised on the training animals; "
            f"{ci} bootstrap intervals (trials resampled within animal and class).</p>"
            "<ul>" + "".join(lines) + "</ul>"
        )
        roc = _roc_figure(tables["decoder_trials"])
        cap = "ROC of held-out animals (colour) and pooled (black)."
        parts.append(figure_html(roc, alt="ROC curves", caption=cap))
    if len(tables["levels"]):
        parts.append(
            figure_html(
                _dose_figure(tables["levels"], tables["spearman"]),
                alt="dose-response",
                caption=f"Mean readout per intensity: animals (colour), all trials ({ci} CI).",
            )
        )
    for name in ("mixed", "spearman"):
        if len(tables[name]):
            parts.append(f"<details><summary>{name} table</summary>")
            parts.append(html_table(tables[name].drop(columns=["messages"], errors="ignore")))
            parts.append("</details>")
    if notes:
        parts.append("<p>Notes: " + html.escape("; ".join(notes)) + "</p>")
    return section_html("intensity", "Intensity: dose-response", parts)
