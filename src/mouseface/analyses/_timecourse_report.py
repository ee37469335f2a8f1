"""Report section of the time-course analysis (private)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt_ci, html_table, section_html

__all__ = ["timecourse_section"]


def _figure(curves: pd.DataFrame, params: pd.DataFrame, readout: str):
    emotions = list(dict.fromkeys(curves["emotion"]))
    ncols = min(3, len(emotions))
    nrows = -(-len(emotions) // ncols)
    fig = new_figure(3.6 * ncols, 2.6 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    colours = emotion_colours(["neutral", *emotions])
    for ax, e in zip(axes, emotions, strict=False):
        g = curves[curves["emotion"] == e]
        ax.fill_between(g["time"], g["ci_low"], g["ci_high"], color=colours[e], alpha=0.3, lw=0)
        ax.plot(g["time"], g["mean"], color=colours[e], lw=1, label="mean")
        ax.plot(g["time"], g["fit"], "k--", lw=1, label="fit")
        p = params[(params["emotion"] == e) & (params["source"] == "fit")].set_index("parameter")
        if "decay" in p.index:
            tau = fmt_ci(p.at["decay", "value"], p.at["decay", "ci_low"], p.at["decay", "ci_high"])
            ax.set_title(f"{e}: decay {tau} s", fontsize=8)
        ax.axvline(0, color="k", lw=0.5, alpha=0.5)
        ax.axhline(0, color="k", lw=0.5, alpha=0.5)
        ax.set_xlabel("time from onset (s)")
        ax.set_ylabel(readout)
        if g["time"].max() > 60:
            ax.set_xscale("symlog", linthresh=10)
        ax.legend(fontsize=6, frameon=False)
    for ax in axes[len(emotions) :]:
        ax.set_visible(False)
    return fig


def _direction_text(opt: dict) -> str:
    if opt["readout"] != "amplitude":
        return ""
    if opt["direction"] == "peak":
        return (
            " Amplitude: projection of each frame's HOG change from its session's neutral face on "
            f"the animal's own mean change over the last {opt['peak_window']:g} s before each "
            "trial's peak (1 = that face). HOG grows less than in proportion to large face "
            "changes, so strong, slowly decaying expressions read somewhat slower decays than "
            "the face's (see docs/timecourse.md)."
        )
    return f" Amplitude: projection on the {html.escape(opt['direction'])} prototype's change."


def timecourse_section(tables: dict[str, pd.DataFrame], *, opt: dict, notes: list[str]) -> str:
    """HTML ``<section>`` of the time-course analysis."""
    ci = f"{round(100 * opt['ci'])}%"
    p = tables["params"]
    parts = [
        f"<p>Stimulus-locked <b>{html.escape(opt['readout'])}</b> per emotion (trial's baseline "
        "subtracted; cut at the next onset), mean over trials with a bootstrap band, and a "
        "least-squares fit of <i>A&nbsp;g(t&nbsp;-&nbsp;latency)</i>: rise "
        "<i>1&nbsp;-&nbsp;exp(-s/rise)</i> while the stimulus lasts (its duration), then "
        f"exponential decay <i>exp(-s/decay)</i>. {ci} intervals from {opt['n_boot']} resamples "
        f"of trials.{_direction_text(opt)}</p>"
    ]
    items = []
    for e, g in p[p["source"] == "fit"].groupby("emotion", sort=True):
        r = g.set_index("parameter")

        def ci_of(name: str, digits: int = 3, r=r) -> str:
            return fmt_ci(r.at[name, "value"], r.at[name, "ci_low"], r.at[name, "ci_high"], digits)

        flag = "" if bool(r["decay_resolved"].iloc[0]) else " (decay not resolved: see notes)"
        items.append(
            f"<li><b>{html.escape(e)}</b> ({int(r['n_trials'].iloc[0])} trials): onset latency "
            f"{ci_of('latency')} s, rise {ci_of('rise')} s, peak {ci_of('peak')} at "
            f"{ci_of('peak_time')} s, decay time constant {ci_of('decay')} s{flag}; "
            f"R<sup>2</sup> = {r['r2'].iloc[0]:.2f}</li>"
        )
    parts.append("<ul>" + "".join(items) + "</ul>")
    parts.append(
        figure_html(
            _figure(tables["curves"], p, opt["readout"]),
            alt="time courses",
            caption=f"Mean over trials ({ci} band) and the fitted model (dashed).",
        )
    )
    parts.append("<details><summary>parameters</summary>" + html_table(p) + "</details>")
    if notes:
        parts.append("<p>Notes: " + html.escape("; ".join(notes)) + "</p>")
    return section_html("timecourse", "Time course and persistence", parts)
