"""Report section 4: the headline per-frame score first, then decoder scores per fold and
confusion matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mouseface.decoding.scoring import headline_score
from mouseface.errors import InputError
from mouseface.report import figures as fg
from mouseface.report import plots
from mouseface.report._load import Outputs
from mouseface.report._sections import Section, class_order, img, plot, section, table, text

_COLUMNS = {"decoder", "level", "fold", "metric", "value"}


def _summary(scores: pd.DataFrame, n_test: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dec, lev), g in scores.groupby(["decoder", "level"], sort=True):
        row: dict[str, object] = {"decoder": dec, "level": lev, "folds": g["fold"].nunique()}
        for metric in ("accuracy", "balanced_accuracy"):
            v = g.loc[g["metric"] == metric, "value"].to_numpy(float)
            v = v[np.isfinite(v)]
            name = metric.replace("_", " ")
            if v.size == 0:
                row[name] = "–"
            elif v.size == 1:
                row[name] = f"{v[0]:.3f}"
            else:
                row[name] = f"{v.mean():.3f} ± {v.std(ddof=1):.3f} [{v.min():.3f}–{v.max():.3f}]"
        nt = n_test.loc[(n_test["decoder"] == dec) & (n_test["level"] == lev), "value"]
        row["n test"] = int(nt.sum()) if len(nt) else "–"
        rows.append(row)
    return pd.DataFrame(rows)


def confusion_counts(counts: pd.DataFrame, out: Outputs) -> dict[tuple[str, str], pd.DataFrame]:
    """Confusion counts summed over folds per (decoder, level), classes in report order.

    Parameters
    ----------
    counts : DataFrame
        The ``metric == "count"`` rows: decoder, level, true, predicted, value.

    Returns
    -------
    dict
        ``{(decoder, level): square DataFrame (true x predicted) of int counts}``; levels
        ``frame`` then ``trial``.
    """
    out_m: dict[tuple[str, str], pd.DataFrame] = {}
    counts = counts.dropna(subset=["true", "predicted"])
    for lev in ("frame", "trial"):
        for dec in sorted(counts["decoder"].astype(str).unique()):
            g = counts[(counts["level"] == lev) & (counts["decoder"] == dec)]
            if g.empty:
                continue
            labels = class_order(
                sorted(set(g["true"].astype(str)) | set(g["predicted"].astype(str))), out
            )
            m = g.pivot_table(
                index="true", columns="predicted", values="value", aggfunc="sum", fill_value=0
            )
            m = m.reindex(index=labels, columns=labels, fill_value=0).astype(np.int64)
            out_m[(dec, lev)] = m
    return out_m


def decoding_section(out: Outputs) -> Section:
    """Section 4: accuracy and balanced accuracy per decoder and level; confusion matrices."""
    sec = section("decoding", "Decoding emotions on held-out animals")
    note = (out.provenance or {}).get("decoding_note")
    if note:
        sec["notes"].append(str(note))
    d = out.decoding
    if d is None:
        sec["notes"].append("Skipped: decoding.parquet not found (decoding was not run).")
        return sec
    if out.trials is not None and any("predicted" in f for f in out.frames.values()):
        try:
            score = headline_score(out.out_dir)
            sec["blocks"].append(
                text(
                    "Emotion of every frame, named out of fold by the first decoder (the "
                    "frame's animal was not in training), all classes: "
                    + score.sentence()
                    + ". Per frame in sessions/<id>/frames.parquet (predicted, p_<class>)."
                )
            )
        except InputError as exc:
            sec["notes"].append(f"No per-frame headline: {exc}")
    if missing := _COLUMNS - set(d.columns):
        sec["notes"].append(f"Skipped: decoding.parquet lacks the columns {sorted(missing)}.")
        return sec
    d = d.assign(decoder=d["decoder"].astype(str), level=d["level"].astype(str))
    scores = d[d["metric"].isin(["accuracy", "balanced_accuracy"])]
    if scores.empty:
        sec["notes"].append("decoding.parquet holds no accuracy rows.")
    else:
        counts = d[d["metric"] == "count"]
        chance = {}
        if {"true", "predicted"} <= set(d.columns):
            for lev, g in counts.dropna(subset=["true"]).groupby("level"):
                chance[str(lev)] = 1.0 / g["true"].nunique()
        summary = _summary(scores, d[d["metric"] == "n_test"])
        held = ""
        if "held_out" in d:
            animals = sorted(d["held_out"].dropna().astype(str).unique())
            held = f" Folds hold out one animal each ({', '.join(animals)})."
        sec["blocks"].append(
            table(
                summary,
                "Cross-validated scores: mean ± SD [min–max] over folds. Frame level: every "
                "baseline and response-window frame (at most 120 per session and class), the "
                "neutral gate included; trial level: the emotion most of a trial's frames "
                "are named (frames named neutral do not vote)." + held,
                index=False,
                bid="decoding-scores",
            )
        )
        fig = fg.accuracy_figure(scores, chance)
        sec["blocks"].append(
            img(
                fig,
                "Bars: mean over folds; dots: folds; red dashes: chance "
                "(1 / number of true classes).",
                "decoding accuracy",
                bid="img-decoding-accuracy",
            )
        )
    if not {"true", "predicted"} <= set(d.columns):
        sec["notes"].append("No confusion counts (columns true/predicted) in decoding.parquet.")
        return sec
    mats = confusion_counts(d[d["metric"] == "count"], out)
    if not mats:
        sec["notes"].append("No confusion counts for the frame or trial level.")
        return sec
    n_dec = len({dec for dec, _ in mats})
    fig = plots.confusion_plot(mats, ncols=n_dec if n_dec > 1 else 2)
    sec["blocks"].append(
        plot(
            "fig-confusion",
            fig,
            "Confusion matrices summed over folds; colour: fraction of "
            "each true class (row-normalised); numbers: counts (hover for details).",
            "confusion",
        )
    )
    return sec
