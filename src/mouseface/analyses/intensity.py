"""Intensity analysis: dose-response of the face to stimulus intensity, and a trial-level decoder
that tells strong stimuli from none on animals it never saw.

For every trial type with at least two intensities (``intensity`` column of the events), and for
each readout (``response`` = change from neutral; ``strength`` = Pearson r with the emotion's
prototype; ``amplitude`` = projection on the emotion's direction, see
:mod:`mouseface.expression.readout`):

- Spearman's rho of intensity vs readout per animal and over all trials, with bootstrap CIs;
- a linear mixed model ``readout ~ intensity (+ state) + (1 | animal)`` (slope, Wald CI, p);
- mean readout per intensity level (per animal and pooled) with bootstrap CIs.

Decoder: trials with ``intensity >= strong_min`` are "strong", ``<= none_max`` "none"; a
logistic regression on per-trial features (change, amplitude, strength and motion: response
minus baseline, peak, and the time course in quarters of the response window) is trained on all
animals but one and scores the held-out one (every trial of it, so intermediate intensities get
a score too). The fold that holds an animal out computes the amplitude feature of every trial
from the pooled prototype of the OTHER animals (``direction: pooled``), so no prototype built
from the held-out animal enters its decoder. AUC per held-out animal and pooled, with
bootstrap CIs.

Options (``analyses: {intensity: {...}}``): ``trial_types`` (list; default every graded one),
``readouts`` (subset of response, strength, amplitude), ``strong_min`` (default: the upper half
of the nonzero intensity levels, e.g. 300 uA of 50/150/300/500), ``none_max`` (default 0),
``direction`` (pooled | animal prototype for the amplitude), ``decoder_C`` (inverse L2
penalty, 0.1), ``n_boot`` (2000), ``ci`` (0.95), ``seed`` (0), ``valid_only`` (true).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from mouseface.analyses._effects import json_safe, use_trials
from mouseface.analyses._intensity_report import intensity_section
from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses.context import Context, Result
from mouseface.decoding.intensity import (
    leave_one_group_out_scores,
    strong_none_labels,
    trial_features,
)
from mouseface.errors import InputError
from mouseface.expression.readout import (
    DIRECTIONS,
    good_frames,
    session_amplitude,
    session_neutral,
    trial_amplitudes,
)
from mouseface.stats import auc_ci, mean_ci, mixed_slope, spearman_ci

NAME = "intensity"
ORDER = 30

READOUTS = ("response", "strength", "amplitude")


class Options(AnalysisOptions):
    """Options of the intensity analysis (config ``analyses: {intensity: {...}}``)."""

    trial_types: list | None = None
    readouts: list[str] = list(READOUTS)
    strong_min: float | None = None
    none_max: float = 0.0
    direction: Literal[DIRECTIONS] = "pooled"  # type: ignore[valid-type]
    decoder_C: float = 0.1  # noqa: N815 (the option's name in configs)
    n_boot: int = n_boot_field(2000)
    ci: float = ci_field()
    seed: int = 0
    valid_only: bool = True


def _options(ctx: Context) -> dict:
    opt = check_options(NAME, ctx.options, Options)
    bad = [r for r in opt["readouts"] if r not in READOUTS]
    if bad or not opt["readouts"]:
        raise InputError(f"analyses.intensity.readouts: choose from {list(READOUTS)}, got {bad}")
    if not (isinstance(opt["decoder_C"], int | float) and opt["decoder_C"] > 0):
        raise InputError("analyses.intensity.decoder_C: must be a number > 0")
    return opt


def graded_types(trials: pd.DataFrame, wanted: list | None) -> list[str]:
    """Trial types with at least two distinct finite intensities (InputError when none)."""
    if "intensity" not in trials or not np.isfinite(trials["intensity"].astype(float)).any():
        raise InputError(
            "no stimulus intensities: trials.parquet has no finite 'intensity'; add an "
            "'intensity' column to the events tables"
        )
    levels = trials.dropna(subset=["intensity"]).groupby("trial_type")["intensity"].nunique()
    graded = sorted(str(t) for t in levels[levels >= 2].index)
    if wanted is not None:
        missing = [t for t in wanted if t not in graded]
        if missing:
            raise InputError(
                f"analyses.intensity.trial_types: {missing} have fewer than 2 intensities "
                f"(graded trial types: {graded})"
            )
        graded = [str(t) for t in wanted]
    if not graded:
        raise InputError(
            "no trial type has at least 2 different intensities; a dose-response needs graded "
            "stimuli (e.g. shocks of 0, 150 and 300 uA)"
        )
    return graded


def _readout_column(readout: str, emotion: str) -> str:
    return {"response": "response", "strength": f"strength_{emotion}"}.get(readout, readout)


def _dose_response(g: pd.DataFrame, tt: str, emotion: str, opt: dict, notes: list[str]):
    boot = {"n_boot": opt["n_boot"], "ci": opt["ci"], "seed": opt["seed"]}
    spear, mixed, levels = [], [], []
    states = g["state"].astype("string").fillna("none") if "state" in g else None
    few: dict[str, list[str]] = {}
    for readout in opt["readouts"]:
        col = _readout_column(readout, emotion)
        if col not in g or not np.isfinite(g[col].astype(float)).any():
            notes.append(f"{tt}: no {col} values; {readout} skipped")
            continue
        key = {"trial_type": tt, "emotion": emotion, "readout": readout, "column": col}
        for animal, ga in [*g.groupby("animal", sort=True), ("all", g)]:
            try:
                e = spearman_ci(ga["intensity"], ga[col], **boot)
            except InputError:
                few.setdefault(f"{tt} {readout}", []).append(str(animal))
                continue
            spear.append({**key, "animal": str(animal), "n": e.n, "rho": e.value,
                          "ci_low": e.ci_low, "ci_high": e.ci_high, "p": e.p})  # fmt: skip
            for level, gl in ga.groupby("intensity"):
                v = gl[col].to_numpy(float)
                v = v[np.isfinite(v)]
                lo, hi = mean_ci(v, n_boot=opt["n_boot"], ci=opt["ci"], seed=opt["seed"])
                levels.append({**key, "animal": str(animal), "intensity": float(level),
                               "n": len(v), "mean": float(np.mean(v)) if len(v) else np.nan,
                               "ci_low": lo, "ci_high": hi})  # fmt: skip
        cov = None
        if states is not None and states.nunique() > 1:
            cov = pd.get_dummies(states, drop_first=True).to_numpy(float)
        try:
            m = mixed_slope(g[col], g["intensity"], g["animal"], covariates=cov, ci=opt["ci"])
        except InputError as exc:
            notes.append(f"{tt} {readout}: mixed model skipped ({exc})")
            continue
        mixed.append({**key, "slope": m.slope, "se": m.se, "ci_low": m.ci_low,
                      "ci_high": m.ci_high, "p": m.p, "n": m.n, "n_animals": m.n_groups,
                      "animal_sd": m.group_sd, "state_covariate": cov is not None,
                      "converged": m.converged, "messages": "; ".join(m.messages)})  # fmt: skip
    if few:
        notes.append(
            "Spearman not computed (fewer than 3 trials or a single intensity) for "
            + "; ".join(f"{k}: {', '.join(v)}" for k, v in few.items())
        )
    return spear, mixed, levels


def default_strong_min(intensity: np.ndarray, none_max: float) -> float:
    """Upper half of the intensity levels above ``none_max`` (its lowest level)."""
    lv = np.unique(intensity[np.isfinite(intensity) & (intensity > none_max)])
    if lv.size == 0:
        raise InputError(f"no trial has an intensity above none_max = {none_max}")
    return float(lv[len(lv) // 2])


def _features(
    ctx: Context, g: pd.DataFrame, emotion: str, opt: dict, prototype: np.ndarray | None = None
) -> pd.DataFrame:
    """Per-trial features; ``prototype`` (d,) replaces the emotion's prototype of the amplitude."""
    rows = []
    win = ctx.windows
    for session, gs in g.groupby("session", sort=False):
        frames = ctx.frames(str(session))
        times = frames["time"].to_numpy(float)
        series = {"change": frames["change"].to_numpy(float)}
        if f"strength_{emotion}" in frames:
            series["strength"] = frames[f"strength_{emotion}"].to_numpy(float)
        if "motion" in frames:
            series["motion"] = frames["motion"].to_numpy(float)
        lo = min(win["baseline"][0], win["response"][0])
        hi = max(win["baseline"][1], win["response"][1])
        need = np.zeros(len(times), bool)
        for o in gs["onset"]:
            need |= (times >= o + lo) & (times < o + hi)
        idx = np.flatnonzero(need)
        amp = np.full(len(times), np.nan)
        try:
            vectors = None
            if prototype is not None:
                vectors = (prototype - session_neutral(ctx, str(session)))[None]
            amp[idx] = session_amplitude(
                ctx, str(session), [emotion], index=idx, direction=opt["direction"],
                vectors=vectors,
            )[:, 0]  # fmt: skip
            series["amplitude"] = amp
        except InputError:
            pass
        for key, tr in gs.iterrows():
            f = trial_features(times, series, good_frames(frames), float(tr["onset"]),
                               baseline=win["baseline"], response=win["response"])  # fmt: skip
            rows.append({"row": key, **f})
    return pd.DataFrame(rows).set_index("row").loc[g.index]


def _pooled_without(ctx: Context, emotion: str, animal: str) -> np.ndarray | None:
    """Pooled prototype of ``emotion`` from every animal but ``animal`` (None if none has it)."""
    ds = ctx.prototypes
    if "animal_prototype" not in ds or emotion not in [str(e) for e in ds["emotion"].values]:
        return None
    A = ds["animal_prototype"].sel(emotion=emotion)
    keep = [str(a) != animal for a in A["animal"].values]
    rows = np.asarray(A.values, dtype=np.float64)[keep]
    rows = rows[np.isfinite(rows).all(axis=1)]
    return rows.mean(axis=0) if len(rows) else None


def _decode(ctx: Context, g: pd.DataFrame, tt: str, emotion: str, opt: dict):
    x = g["intensity"].to_numpy(float)
    strong_min = opt["strong_min"]
    if strong_min is None:
        strong_min = default_strong_min(x, opt["none_max"])
    use, strong = strong_none_labels(x, strong_min=strong_min, none_max=opt["none_max"])
    if not (use & ~strong).any() or not (use & strong).any():
        raise InputError(
            f"{tt} has {int((use & ~strong).sum())} trials with intensity <= {opt['none_max']} "
            f"(none) and {int((use & strong).sum())} with >= {strong_min} (strong); both are "
            "needed"
        )
    F = _features(ctx, g, emotion, opt)
    F = F.loc[:, np.isfinite(F.to_numpy(float)).any(axis=0)]
    per_fold = {}
    if "amplitude_mean" in F and opt["direction"] == "pooled":
        for a in sorted(set(g["animal"].astype(str))):
            proto = _pooled_without(ctx, emotion, a)
            if proto is not None:
                per_fold[a] = (
                    _features(ctx, g, emotion, opt, proto)
                    .reindex(columns=F.columns)
                    .to_numpy(float)
                )
    scores, folds = leave_one_group_out_scores(
        F.to_numpy(float), strong, g["animal"].to_numpy(), train=use, C=opt["decoder_C"],
        fold_features=per_fold,
    )  # fmt: skip
    boot = {"n_boot": opt["n_boot"], "ci": opt["ci"], "seed": opt["seed"]}
    base = {"trial_type": tt, "strong_min": strong_min, "none_max": opt["none_max"]}
    rows = []
    ok = use & np.isfinite(scores)
    animals = g["animal"].astype(str).to_numpy()
    for a in [*sorted(set(animals[ok])), "all"]:
        sel = ok & ((animals == a) if a != "all" else True)
        n1, n0 = int((sel & strong).sum()), int((sel & ~strong).sum())
        row = {**base, "held_out": a, "n_strong": n1, "n_none": n0}
        if n1 and n0:
            e = auc_ci(strong[sel], scores[sel], groups=animals[sel], **boot)
            rows.append({**row, "metric": "auc", "value": e.value, "ci_low": e.ci_low,
                         "ci_high": e.ci_high, "p": e.p})  # fmt: skip
        fin = np.isfinite(scores) & ((animals == a) if a != "all" else True)
        try:
            e = spearman_ci(x[fin], scores[fin], **boot)
            rows.append({**row, "metric": "spearman_score_intensity", "value": e.value,
                         "ci_low": e.ci_low, "ci_high": e.ci_high, "p": e.p})  # fmt: skip
        except InputError:
            pass
    per_trial = g[["session", "animal", "trial", "trial_type", "intensity"]].copy()
    per_trial["class"] = np.where(use, np.where(strong, "strong", "none"), "other")
    per_trial["score"] = scores
    per_trial = pd.concat([per_trial, F.add_prefix("f_")], axis=1)
    return pd.DataFrame(rows), per_trial, list(F.columns)


def run(ctx: Context) -> Result:
    """Dose-response statistics and the strong-vs-none decoder (see module docstring)."""
    opt = _options(ctx)
    trials = use_trials(ctx.trials, valid_only=opt["valid_only"])
    types = graded_types(trials, opt["trial_types"])
    sub = trials[trials["trial_type"].astype(str).isin(types)].copy()
    if "amplitude" in opt["readouts"]:
        sub["amplitude"] = trial_amplitudes(ctx, sub, direction=opt["direction"])
    notes: list[str] = []
    spear, mixed, levels, dec, per_trial, skipped = [], [], [], [], [], []
    features: list[str] = []
    for tt in types:
        g = sub[sub["trial_type"].astype(str) == tt]
        g = g[np.isfinite(g["intensity"].astype(float))]
        emotion = str(g["emotion"].mode().iloc[0])
        s, m, lv = _dose_response(g, tt, emotion, opt, notes)
        spear += s
        mixed += m
        levels += lv
        try:
            d, pt, features = _decode(ctx, g, tt, emotion, opt)
            dec.append(d)
            per_trial.append(pt)
        except InputError as exc:
            skipped.append(str(exc))
    if skipped:
        notes.append("strong-vs-none decoder skipped: " + "; ".join(skipped))
    tables = {
        "spearman": pd.DataFrame(spear),
        "mixed": pd.DataFrame(mixed),
        "levels": pd.DataFrame(levels),
    }
    if dec:
        tables["decoder"] = pd.concat(dec, ignore_index=True)
        tables["decoder_trials"] = pd.concat(per_trial, ignore_index=True)
    summary = json_safe(_summary(tables))
    html = intensity_section(tables, opt=opt, notes=notes, features=features)
    return Result(tables=tables, summary=summary, section_html=html, notes=notes)


def _summary(tables: dict[str, pd.DataFrame]) -> dict:
    out: dict = {}
    sp = tables["spearman"]
    for (tt, readout), g in sp.groupby(["trial_type", "readout"]) if len(sp) else []:
        per = g[g["animal"] != "all"]
        if len(per):
            out[f"{tt}.{readout}.spearman_min_animal"] = float(per["rho"].min())
        pooled = g[g["animal"] == "all"]
        if len(pooled):
            out[f"{tt}.{readout}.spearman_all"] = float(pooled["rho"].iloc[0])
    for _, r in tables["mixed"].iterrows():
        k = f"{r['trial_type']}.{r['readout']}.slope"
        out |= {k: r["slope"], f"{k}_low": r["ci_low"], f"{k}_high": r["ci_high"], f"{k}_p": r["p"]}
    if "decoder" in tables:
        d = tables["decoder"]
        for tt, g in d[d["metric"] == "auc"].groupby("trial_type"):
            a = g[g["held_out"] == "all"]
            if len(a):
                out[f"{tt}.auc"] = float(a["value"].iloc[0])
                out[f"{tt}.auc_low"] = float(a["ci_low"].iloc[0])
                out[f"{tt}.auc_high"] = float(a["ci_high"].iloc[0])
            per = g[g["held_out"] != "all"]
            if len(per):
                out[f"{tt}.auc_min_animal"] = float(per["value"].min())
    return out
