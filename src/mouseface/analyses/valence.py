"""Valence and arousal per frame, per trial and per emotion (beyond the paper).

Definitions in :mod:`mouseface.expression.affect`: valence = normalised strength toward the best
positive prototype minus toward the best negative one; arousal = distance of the face from the
neutral prototype relative to a full expression's distance. Writes per-frame valence/arousal of
every session (``valence_frames``), per-trial means (``valence_trials``), where each emotion lands
in the plane with hierarchical-bootstrap intervals (``valence_quadrants``), stimulus-locked
trajectories (``valence_trajectories``) and comparisons such as active vs passive fear arousal
(``valence_contrasts``).

Options: ``positive`` (emotions, default ``[pleasure]``), ``negative`` (default: every other
emotion), ``span`` (trajectory window, s, default ``[-2, 8]``), ``contrasts`` (list of
``[emotion_a, emotion_b]`` arousal comparisons, default ``[[passive_fear, active_fear]]`` when
both exist), ``n_bootstrap``, ``n_permutations``, ``ci``, ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from mouseface.analyses._beyond import session_windows
from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses._valence_report import valence_section
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression.affect import (
    arousal,
    hierarchical_mean_ci,
    locked_average,
    normalised_strength,
    valence,
)
from mouseface.expression.meaning import condition_effect
from mouseface.expression.prototypes import pearson_rows

NAME = "valence"
ORDER = 70


class Options(AnalysisOptions):
    """Options of the valence analysis (config ``analyses: {valence: {...}}``)."""

    positive: list[str] | None = None
    negative: list[str] | None = None
    span: list[float] = Field([-2.0, 8.0], min_length=2, max_length=2)
    contrasts: list[list[str]] | None = None
    n_bootstrap: int = n_boot_field(2000)
    n_permutations: int = Field(5000, ge=1)
    ci: float = ci_field()
    seed: int = 0


_POSITIVE = ("pleasure", "reward", "joy", "positive")


def _poles(opt: dict, emotions: list[str]) -> tuple[list[str], list[str]]:
    pos = opt["positive"]
    pos = [e for e in emotions if e in _POSITIVE] if pos is None else list(pos)
    neg = opt["negative"]
    neg = [e for e in emotions if e not in pos] if neg is None else list(neg)
    bad = [e for e in pos + neg if e not in emotions]
    if bad:
        raise InputError(
            f"analyses.valence: emotion(s) {', '.join(bad)} have no strength column; "
            f"emotions: {', '.join(emotions)}"
        )
    if not pos and not neg:
        raise InputError("analyses.valence: no positive or negative emotion to read valence from")
    return pos, neg


def _scales(ctx: Context, emotions: list[str]) -> dict[str, float]:
    """Per animal: mean 1 - r between its neutral and its emotion prototypes."""
    ds = ctx.prototypes
    out = {}
    names = [str(e) for e in ds["emotion"].values]
    pooled = ds["prototype"].values
    for i, a in enumerate(ds["animal"].values):
        A = ds["animal_prototype"].values[i]
        neutral = A[names.index("neutral")]
        d = []
        for e in emotions:
            p = A[names.index(e)] if e in names else None
            if p is None or not np.isfinite(p).all():
                p = pooled[names.index(e)]
            d.append(1.0 - pearson_rows(p[None, :], neutral)[0])
        out[str(a)] = float(np.mean(d))
    return out


def run(ctx: Context) -> Result:
    """Per-frame valence/arousal, emotion quadrants and trajectories."""
    opt = check_options(NAME, ctx.options, Options)
    emotions = [e for e in ctx.emotions if e != "neutral"]
    if not emotions:
        raise InputError("no strength_<emotion> columns: valence needs emotion prototypes")
    pos, neg = _poles(opt, emotions)
    span = tuple(float(x) for x in opt["span"])
    scale = _scales(ctx, emotions)
    frames_out, trials_out, traces = [], [], []
    for session in ctx.sessions:
        if not (ctx.trials["session"] == session).any():
            continue
        sw = session_windows(ctx, session, neutral=False)
        f = sw.frames
        base = np.zeros(len(f), bool)
        for idx in sw.baseline:
            base[idx] = True
        u = normalised_strength(f[[f"strength_{e}" for e in emotions]].to_numpy(), base)
        v = valence(u, positive=[emotions.index(e) for e in pos],
                    negative=[emotions.index(e) for e in neg])  # fmt: skip
        v = v - np.nanmedian(v[base])  # 0 at the session's usual neutral face
        a = arousal(f["change"].to_numpy(), base, scale=scale.get(sw.animal, np.nan))
        frames_out.append(
            pd.DataFrame(
                {
                    "session": session,
                    "animal": sw.animal,
                    "frame": f["frame"],
                    "time": f["time"],
                    "valence": v.astype(np.float32),
                    "arousal": a.astype(np.float32),
                }
            )  # fmt: skip
        )
        va = np.stack([v, a], axis=1)
        for k, row in sw.trials.iterrows():
            r, b = sw.response[k], sw.baseline[k]
            trials_out.append(
                {
                    "session": session,
                    "animal": sw.animal,
                    "trial": int(row["trial"]),
                    "emotion": row["emotion"],
                    "valence": float(np.nanmean(v[r])),
                    "arousal": float(np.nanmean(a[r])),
                    "baseline_valence": float(np.nanmean(v[b])),
                    "baseline_arousal": float(np.nanmean(a[b])),
                }  # fmt: skip
            )
            grid, tr = locked_average(f["time"].to_numpy(), va, [row["onset"]], span=span)
            traces.append((row["emotion"], grid, tr))
    trials = pd.DataFrame(trials_out)
    quadrants = _quadrants(trials, pos, neg, opt)
    contrasts = _contrasts(trials, opt)
    trajectories = _trajectories(traces)
    summary = {}
    for _, q in quadrants.iterrows():
        summary[f"valence_{q['emotion']}"] = q["valence"]
        summary[f"arousal_{q['emotion']}"] = q["arousal"]
    for _, c in contrasts.iterrows():
        key = f"arousal_{c['after']}_minus_{c['before']}"
        summary |= {key: c["value"], f"{key}_ci": [c["ci_low"], c["ci_high"]]}
    signs = quadrants.dropna(subset=["valence_ok"])
    summary["valence_sign_correct"] = int(signs["valence_ok"].sum())
    summary["valence_sign_checked"] = len(signs)
    section = valence_section(quadrants, contrasts, trajectories, pos=pos, neg=neg, opt=opt)
    return Result(
        tables={
            "frames": pd.concat(frames_out, ignore_index=True),
            "trials": trials,
            "quadrants": quadrants,
            "trajectories": trajectories,
            "contrasts": contrasts,
        },
        summary=summary,
        section_html=section,
    )


def _quadrants(trials: pd.DataFrame, pos, neg, opt) -> pd.DataFrame:
    kw = {"n_boot": int(opt["n_bootstrap"]), "ci": float(opt["ci"]), "seed": int(opt["seed"])}
    rows = []
    base = trials.assign(emotion="neutral", valence=trials["baseline_valence"],
                         arousal=trials["baseline_arousal"])  # fmt: skip
    for emo, g in pd.concat([base, trials]).groupby("emotion", sort=False):
        v = hierarchical_mean_ci(g["valence"].to_numpy(), g["animal"].to_numpy(), **kw)
        a = hierarchical_mean_ci(g["arousal"].to_numpy(), g["animal"].to_numpy(), **kw)
        expected = "+" if emo in pos else "-" if emo in neg else None
        ok = None
        if expected is not None:
            ok = bool(v[2] < 0) if expected == "-" else bool(v[1] > 0)
        rows.append(
            {
                "emotion": emo,
                "valence": v[0],
                "valence_ci_low": v[1],
                "valence_ci_high": v[2],
                "arousal": a[0],
                "arousal_ci_low": a[1],
                "arousal_ci_high": a[2],
                "n_trials": len(g),
                "n_animals": g["animal"].nunique(),
                "expected_valence": expected,
                "valence_ok": ok,
            }  # fmt: skip
        )
    return pd.DataFrame(rows)


def _contrasts(trials: pd.DataFrame, opt) -> pd.DataFrame:
    pairs = opt["contrasts"]
    present = set(trials["emotion"])
    if pairs is None:
        pairs = (
            [["passive_fear", "active_fear"]] if {"passive_fear", "active_fear"} <= present else []
        )
    rows = []
    for pair in pairs:
        if len(pair) != 2 or not set(pair) <= present:
            raise InputError(f"analyses.valence.contrasts: {pair!r} must name two emotions with "
                             f"trials ({', '.join(sorted(present))})")  # fmt: skip
        eff = condition_effect(
            trials, num="arousal", before=pair[0], after=pair[1], condition="emotion",
            n_perm=int(opt["n_permutations"]), n_boot=int(opt["n_bootstrap"]),
            ci=float(opt["ci"]), seed=int(opt["seed"]),
        )  # fmt: skip
        eff.pop("per_animal")
        rows.append({"measure": "arousal", "before": pair[0], "after": pair[1], **eff})
    return pd.DataFrame(rows)


def _trajectories(traces: list) -> pd.DataFrame:
    rows = []
    by: dict[str, list[np.ndarray]] = {}
    grid = None
    for emo, g, tr in traces:
        by.setdefault(emo, []).append(tr)
        grid = g
    for emo, trs in by.items():
        stack = np.stack(trs)  # (n_trials, T, 2)
        ok = np.isfinite(stack)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(ok, stack, 0.0).sum(axis=0) / ok.sum(axis=0)
        n = ok[:, :, 0].sum(axis=0)
        mean[n < max(1, len(trs) / 2)] = np.nan  # times that fewer than half the trials cover
        for i, t in enumerate(grid):
            rows.append({"emotion": emo, "time": round(float(t), 4), "valence": mean[i, 0],
                         "arousal": mean[i, 1], "n_trials": int(n[i])})  # fmt: skip
    return pd.DataFrame(rows)
