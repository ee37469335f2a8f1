"""Report section of the calibration analysis (private)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt_ci, html_table

__all__ = ["calibration_section"]


def _figure(strength: pd.DataFrame, drift: pd.DataFrame, emotions: list[str]):
    fig = new_figure(10.5, 3.2)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    colours = emotion_colours(["neutral", *emotions])
    for animal, g in drift.groupby("animal", sort=False):
        x = np.arange(len(g))
        d = g["neutral_distance"]
        err = [np.clip(d - g["ci_low"], 0, None), np.clip(g["ci_high"] - d, 0, None)]
        ax1.errorbar(x, d, yerr=err, fmt="o-", ms=3, capsize=2, label=str(animal))
        for e in emotions:
            ax2.plot(x, g[f"baseline_median_{e}"], "-", color=colours[e], lw=1,
                     label=e if animal == drift["animal"].iloc[0] else None)  # fmt: skip
    n_max = int(drift.groupby("animal").size().max())
    for ax in (ax1, ax2):
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlim(-0.3, n_max - 0.7)
    ax1.set_xlabel("session of the animal (config order)")
    ax1.set_ylabel("1 - r(session neutral, animal neutral)")
    ax1.set_title("baseline drift of the neutral face", fontsize=9)
    ax1.legend(fontsize=6)
    ax2.set_xlabel("session of the animal")
    ax2.set_ylabel("median raw strength at baseline")
    ax2.set_title("raw strength at rest, per session", fontsize=9)
    ax2.legend(fontsize=6)
    e = emotions[0]
    s = strength[strength["session"] == strength["session"].iloc[0]]
    peak = int(np.nanargmax(s[f"strength_{e}"].to_numpy()))
    w = s.iloc[max(0, peak - 80) : peak + 80]
    ax3.fill_between(w["time"], w[f"strength_{e}_low"], w[f"strength_{e}_high"],
                     color=colours[e], alpha=0.3, lw=0)  # fmt: skip
    ax3.plot(w["time"], w[f"strength_{e}"], color=colours[e], lw=1)
    ax3.set_xlabel("time (s)")
    ax3.set_ylabel(f"strength_{e}")
    ax3.set_title(f"{s['session'].iloc[0]}: strength with bootstrap CI", fontsize=9)
    return fig


def _fold(items: list[str]) -> str:
    """The per-session list, folded in <details> when it is long."""
    ul = f"<ul>{''.join(items)}</ul>"
    if len(items) <= 12:
        return ul
    return f"<details><summary>drift of each of the {len(items)} sessions</summary>{ul}</details>"


def calibration_section(
    strength: pd.DataFrame,
    drift: pd.DataFrame,
    unc: pd.DataFrame,
    *,
    emotions: list[str],
    opt: dict,
) -> str:
    """HTML ``<section>``: drift per session with CIs, per-frame SDs, figure."""
    ci = int(round(100 * float(opt["ci"])))
    items = [
        f"<li>{html.escape(r['session'])} ({html.escape(str(r['animal']))}, "
        f"{html.escape(str(r['state']))}): neutral drift 1 - r = "
        f"{fmt_ci(r['neutral_distance'], r['ci_low'], r['ci_high'], digits=4)}</li>"
        for _, r in drift.iterrows()
    ]
    rng_rows = []
    for e in emotions:
        col = drift.groupby("animal")[f"baseline_median_{e}"]
        rng_rows.append(
            {"emotion": e, "baseline median range across sessions (mean over animals)":
             float((col.max() - col.min()).mean()),
             "median per-frame SD": float(unc.loc[unc["emotion"] == e, "median_sd"].median()),
             "p95 per-frame SD": float(unc.loc[unc["emotion"] == e, "p95_sd"].median())}
        )  # fmt: skip
    per = drift.groupby("animal", sort=False)["neutral_distance"]
    spread = "; ".join(
        f"{html.escape(str(a))}: median {g.median():.4f}, range {g.min():.4f}-{g.max():.4f}"
        for a, g in per
    )
    img = figure_html(_figure(strength, drift, emotions), alt="calibration")
    return (
        "<section id='calibration'><h2>Calibration and uncertainty of strength</h2>"
        f"<p>Every strength value has an uncertainty: the animal's prototype (mean of its "
        f"{html.escape(str(len(unc) and int(unc['n_prototype_frames'].max())))} least "
        f"neutral-like response frames) is rebuilt {int(opt['n_bootstrap'])} times from those "
        f"frames resampled with replacement; <code>strength_&lt;e&gt;_sd</code> and the {ci}% "
        "interval of each frame's r over these prototypes are in "
        "<code>analyses/calibration_strength.parquet</code>, with <code>z_&lt;e&gt;</code> = "
        "(strength - the session's baseline median) / the animal's robust baseline SD, which "
        "removes day-to-day drift. Drift: distance of each session's neutral prototype from the "
        f"animal's mean neutral ({ci}% bootstrap CI over baseline frames). Per animal over "
        f"its sessions: {spread}.</p>"
        f"{_fold(items)}{img}"
        f"{html_table(pd.DataFrame(rng_rows), digits=4)}</section>"
    )
