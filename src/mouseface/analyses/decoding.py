"""Decoding analysis: which emotion does a frame show, on animals, sessions and trials left out?

Frame-level data (recomputed from the feature stores): stimulus-window frames labelled with
their trial's emotion, baseline frames labelled ``neutral``; features ``HOG - the session's
neutral prototype`` (mean HOG of the session's good baseline frames); frames with a quality
flag (:mod:`mouseface.features.quality`: brief transients such as blinks, occlusion, large
motion, dark/saturated images) are left out.

Decoders (:func:`mouseface.decoding.factory.make_decoder`, the same as the pipeline's and
``library apply``'s): nearest prototype by Pearson r (``prototype``),
PCA + random forest (``forest``) and PCA + logistic regression (``linear``), each behind a
*neutral gate*: a frame whose change from its neutral prototype lies within the baseline
variability (robust z-score ``<= change_threshold``) is neutral, the others are named by the
classifier. The baseline is cross-fitted: a trial's frames are compared with a neutral
prototype and a z reference built from the session's OTHER trials' baseline frames, so a
scored baseline frame never helped define its own reference. The same label-free rule
selects the stimulus-window frames the ``frame`` level scores (those in which the face has
changed; early frames of the window, before the face responds, and weak trials stay below
it); ``frame_all`` scores every frame, ``trial`` each trial named by the emotion most of its
frames are named (frames named ``neutral`` do not vote).

Cross-validation: leave one animal out (``animal``), leave one session out (``session``),
repeated random splits of trials (``random``). Accuracy, balanced accuracy, per-class F1 and
recall, confusion matrices, all with cluster-bootstrap intervals (animals resampled); chance
from permuting the out-of-fold predictions within animal (no refit: a held-out frame's
prediction never used its label).

Options (``analyses: {decoding: {...}}``): ``decoders``, ``schemes``, ``change_threshold``
(2.0, :data:`mouseface.decoding.GATE_THRESHOLD`), ``max_frames`` (120 per session and class,
for speed), ``n_boot`` (1000),
``n_permutations`` (1000), ``permutation_schemes`` ([animal]), ``n_splits`` (5),
``test_size`` (0.25), ``ci`` (0.95), ``seed`` (0), ``exclude_flagged`` (true),
``valid_only`` (true).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from mouseface.analyses._effects import fmt, fmt_ci, fmt_p, html_table, section_html
from mouseface.analyses._options import check_options
from mouseface.analyses.context import Context, Result
from mouseface.decoding.evaluation import DecodeSettings, decode_frames, summary_numbers
from mouseface.decoding.factory import DECODERS, GATE_THRESHOLD
from mouseface.decoding.splits import SCHEMES
from mouseface.errors import InputError
from mouseface.expression.frameset import build_frame_set, inputs_from_context
from mouseface.report.figures import confusion_figure, emotion_colours, new_figure, png_data_uri

NAME = "decoding"
ORDER = 20

DEFAULTS = {
    "decoders": list(DECODERS),
    "schemes": list(SCHEMES),
    "change_threshold": GATE_THRESHOLD,
    "max_frames": 120,
    "n_boot": 1000,
    "n_permutations": 1000,
    "permutation_schemes": ["animal"],
    "n_splits": 5,
    "test_size": 0.25,
    "ci": 0.95,
    "seed": 0,
    "exclude_flagged": True,
    "valid_only": True,
}

_SCHEME_TEXT = {
    "animal": "leave one animal out",
    "session": "leave one session out",
    "random": "random splits of trials",
}
_LEVEL_TEXT = {
    "frame": "baseline + changed stimulus-window frames",
    "frame_all": "all baseline and stimulus-window frames",
    "trial": "trials (majority of frames named an emotion)",
}


def settings_from_options(options: dict) -> tuple[DecodeSettings, dict]:
    """Validated options -> :class:`DecodeSettings` (InputError names a bad option)."""
    opt = check_options(NAME, options, DEFAULTS)
    for key, allowed in (
        ("decoders", DECODERS),
        ("schemes", SCHEMES),
        ("permutation_schemes", SCHEMES),
    ):
        bad = [v for v in opt[key] if v not in allowed]
        if bad or (key != "permutation_schemes" and not opt[key]):
            raise InputError(
                f"analyses.{NAME}.{key}: {bad or 'empty'}; choose from {', '.join(allowed)}"
            )
    for key in ("max_frames", "n_boot", "n_splits"):
        if int(opt[key]) < 1:
            raise InputError(f"analyses.{NAME}.{key} must be >= 1, got {opt[key]}")
    if int(opt["n_permutations"]) < 0:
        raise InputError(f"analyses.{NAME}.n_permutations must be >= 0")
    if not 0 < float(opt["ci"]) < 1:
        raise InputError(f"analyses.{NAME}.ci must be in (0, 1), got {opt['ci']}")
    st = DecodeSettings(
        decoders=tuple(opt["decoders"]),
        schemes=tuple(opt["schemes"]),
        threshold=float(opt["change_threshold"]),
        max_frames=int(opt["max_frames"]),
        n_boot=int(opt["n_boot"]),
        n_permutations=int(opt["n_permutations"]),
        permutation_schemes=tuple(opt["permutation_schemes"]),
        n_splits=int(opt["n_splits"]),
        test_size=float(opt["test_size"]),
        ci=float(opt["ci"]),
        seed=int(opt["seed"]),
    )
    return st, opt


def run(ctx: Context) -> Result:
    """Cross-validated frame decoding (see module docstring)."""
    st, opt = settings_from_options(ctx.options)
    fs = build_frame_set(
        inputs_from_context(ctx),
        windows=ctx.windows,
        exclude_flagged=bool(opt["exclude_flagged"]),
        valid_only=bool(opt["valid_only"]),
        crossfit=True,
    )
    subjects = {s.id: getattr(s, "subject", None) or s.animal for s in ctx.config.sessions}
    tables, notes = decode_frames(fs, st, subjects=subjects)
    summary = summary_numbers(tables["scores"], decoders=st.decoders)
    return Result(
        tables=tables,
        summary=summary,
        section_html=decoding_section(tables, st=st, notes=notes),
        notes=notes,
    )


# ---------------------------------------------------------------- report section


def _pooled(scores: pd.DataFrame) -> pd.DataFrame:
    return scores[(scores["fold"] == "pooled") & scores["class"].isna()]


def _score_figure(scores: pd.DataFrame, st: DecodeSettings):
    p = _pooled(scores)
    ba = p[p["metric"] == "balanced_accuracy"]
    chance = p[p["metric"] == "chance_balanced_accuracy"]
    schemes = [s for s in st.schemes if s in set(ba["scheme"])]
    fig = new_figure(3.4 * max(1, len(schemes)), 3.2)
    axes = np.atleast_1d(fig.subplots(1, max(1, len(schemes)), sharey=True, squeeze=False)[0])
    marker = {"frame": "o", "frame_all": "s", "trial": "^"}
    for ax, scheme in zip(axes, schemes, strict=False):
        for i, dec in enumerate(st.decoders):
            for j, lev in enumerate(("frame", "frame_all", "trial")):
                r = ba[(ba["scheme"] == scheme) & (ba["decoder"] == dec) & (ba["level"] == lev)]
                if r.empty:
                    continue
                r = r.iloc[0]
                x = i + (j - 1) * 0.22
                err = [[max(r["value"] - r["ci_low"], 0)], [max(r["ci_high"] - r["value"], 0)]]
                ax.errorbar(
                    x,
                    r["value"],
                    yerr=err,
                    fmt=marker[lev],
                    color=f"C{j}",
                    capsize=2,
                    label=_LEVEL_TEXT[lev] if i == 0 else None,
                )
                c = chance[
                    (chance["scheme"] == scheme)
                    & (chance["decoder"] == dec)
                    & (chance["level"] == lev)
                ]
                if not c.empty:
                    ax.plot([x - 0.1, x + 0.1], [c.iloc[0]["value"]] * 2, color="r", lw=1.2)
        ax.axhline(0.95, color="k", ls=":", lw=0.8)
        ax.set_xticks(range(len(st.decoders)), st.decoders, fontsize=8)
        ax.set_ylim(0, 1.02)
        ax.set_title(_SCHEME_TEXT.get(scheme, scheme), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(f"balanced accuracy ({round(100 * st.ci)}% CI)")
    axes[0].legend(fontsize=6, frameon=False, loc="lower left")
    return fig


def _f1_figure(scores: pd.DataFrame, scheme: str, st: DecodeSettings):
    f1 = scores[
        (scores["fold"] == "pooled")
        & (scores["metric"] == "f1")
        & (scores["scheme"] == scheme)
        & (scores["level"] == "frame")
    ]
    classes = sorted(f1["class"].dropna().unique())
    colours = emotion_colours(classes)
    fig = new_figure(1.0 + 0.8 * len(classes), 3.0)
    ax = fig.subplots()
    for i, dec in enumerate(st.decoders):
        g = f1[f1["decoder"] == dec].set_index("class").reindex(classes)
        x = np.arange(len(classes)) + (i - (len(st.decoders) - 1) / 2) * 0.25
        err = [
            np.clip(g["value"] - g["ci_low"], 0, None),
            np.clip(g["ci_high"] - g["value"], 0, None),
        ]
        ax.errorbar(x, g["value"], yerr=err, fmt="o", ms=4, capsize=2, label=dec, color=f"C{i}")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right", fontsize=8)
    for tick in ax.get_xticklabels():
        tick.set_color(colours.get(tick.get_text(), "k"))
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("F1 (held out)")
    ax.set_title(f"per-class F1, {_SCHEME_TEXT.get(scheme, scheme)}, frame level", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return fig


def _img(fig, alt: str, caption: str) -> str:
    return (
        f"<figure><img src='{png_data_uri(fig)}' alt='{html.escape(alt, quote=True)}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _headline(scores: pd.DataFrame, st: DecodeSettings) -> str:
    p = _pooled(scores)
    items = []
    for scheme in st.schemes:
        for dec in st.decoders:
            g = p[(p["scheme"] == scheme) & (p["decoder"] == dec)]
            if g.empty:
                continue
            parts = []
            for lev in ("frame", "frame_all", "trial"):
                r = g[(g["level"] == lev) & (g["metric"] == "balanced_accuracy")]
                if r.empty:
                    continue
                r = r.iloc[0]
                txt = f"{lev} {fmt_ci(r['value'], r['ci_low'], r['ci_high'])}"
                c = g[(g["level"] == lev) & (g["metric"] == "chance_balanced_accuracy")]
                pv = g[(g["level"] == lev) & (g["metric"] == "p_value")]
                if not c.empty and not pv.empty:
                    txt += f" (chance {fmt(c.iloc[0]['value'])}, {fmt_p(pv.iloc[0]['value'])})"
                parts.append(txt)
            items.append(
                f"<li><b>{html.escape(dec)}</b>, {html.escape(_SCHEME_TEXT[scheme])}: "
                + "; ".join(parts)
                + "</li>"
            )
    return "<ul>" + "".join(items) + "</ul>"


def decoding_section(tables: dict[str, pd.DataFrame], *, st: DecodeSettings, notes: list[str]):
    """HTML ``<section>`` of the decoding analysis."""
    scores, conf, sel = tables["scores"], tables["confusion"], tables["selection"]
    ci = f"{round(100 * st.ci)}%"
    cov = sel.groupby("label")[["n_frames", "n_changed"]].sum()
    cov["fraction"] = cov["n_changed"] / cov["n_frames"]
    parts = [
        "<p>Frame decoders cross-validated on held-out animals, sessions and trials. "
        "Baseline frames are <i>neutral</i>, stimulus-window frames carry their trial's "
        "emotion; features are HOG minus the session's neutral prototype; quality-flagged "
        "frames are left out. A frame is neutral when its change from the neutral prototype "
        f"lies within the session's baseline variability (robust z &le; {st.threshold:g}); "
        "the decoder names the others. The <i>frame</i> level scores baseline frames and the "
        "stimulus-window frames in which the face has changed (a label-free rule), "
        "<i>frame_all</i> all frames, <i>trial</i> the majority vote of each trial's changed "
        f"frames. Each trial's frames are judged against a neutral prototype and gate built "
        "from the other trials' baseline frames (cross-fitted). Balanced accuracy with "
        f"{ci} cluster-bootstrap intervals ({st.n_boot} resamples of animals); chance = mean "
        f"of {st.n_permutations} permutations of the out-of-fold predictions within animal "
        "(no refit).</p>",
        _headline(scores, st),
        _img(
            _score_figure(scores, st),
            "balanced accuracy",
            f"Pooled balanced accuracy ({ci} CI) per decoder and scheme; red: permutation "
            "chance; dotted: 0.95.",
        ),
    ]
    main = "animal" if "animal" in st.schemes else st.schemes[0]
    if not scores[(scores["scheme"] == main) & (scores["metric"] == "f1")].empty:
        parts.append(
            _img(_f1_figure(scores, main, st), "per-class F1", f"Per-class F1 with {ci} intervals.")
        )
    mats = {}
    for dec in st.decoders:
        g = conf[(conf["decoder"] == dec) & (conf["scheme"] == main) & (conf["level"] == "frame")]
        if not g.empty:
            m = g.pivot(index="true", columns="predicted", values="count")
            # square: a class only ever predicted (or only true) gets its row (column) of zeros
            labels = sorted(set(m.index) | set(m.columns))
            mats[(dec, main)] = m.reindex(index=labels, columns=labels).fillna(0)
    if mats:
        parts.append(
            _img(
                confusion_figure(mats),
                "confusion matrices",
                "Confusion counts (colour: fraction of the true class), frame level, "
                f"{_SCHEME_TEXT[main]}; intervals in decoding_confusion.parquet.",
            )
        )
    parts.append(
        "<p>Stimulus-window frames whose face changed (selected for the frame level), per "
        "class:</p>" + html_table(cov.reset_index())
    )
    pooled = _pooled(scores)
    shown = pooled[pooled["metric"].isin(["accuracy", "balanced_accuracy"])]
    parts.append(
        "<details><summary>All pooled scores</summary>"
        + html_table(
            shown[["decoder", "scheme", "level", "metric", "value", "ci_low", "ci_high", "n_test"]]
        )
        + "</details>"
    )
    if notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    return section_html("decoding-analysis", "Decoding emotions on held-out animals", parts)
