"""State analysis: expression between internal states (e.g. thirsty vs sated), paired by animal.

For every emotion whose trials occur in two states in at least two animals, each animal's mean
readout in each state is compared (paired t-test, Wilcoxon signed-rank test, Cohen's d_z) and the
mean paired difference and the ratio of the state means get two-level bootstrap intervals
(animals resampled, then trials within animal, state and intensity). With ``match_intensity``
an animal's mean is the mean over the intensities it received in *both* states of the
per-intensity means, so an unequal mix of intensities cannot masquerade as a state effect.

Readouts (all three are tabulated; ``readout`` picks the one in the summary): ``amplitude``
(projection of HOG - neutral on the emotion's direction; proportional to the expression's
amplitude, so the thirsty/sated ratio estimates the ratio of amplitudes), ``response`` (change
from neutral) and ``strength`` (Pearson r with the prototype, which is not linear in amplitude).

Options (``analyses: {state: {...}}``): ``states`` (the states to compare, in order: the first
is the numerator of every ratio; default the order in which states first appear),
``emotions`` (default all), ``readout`` (amplitude), ``direction`` (pooled | animal),
``match_intensity`` (true), ``n_boot`` (2000), ``ci`` (0.95), ``seed`` (0), ``valid_only``
(true).
"""

from __future__ import annotations

from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd

from mouseface.analyses._effects import json_safe, use_trials
from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses._state_report import state_section
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression.readout import DIRECTIONS, trial_amplitudes
from mouseface.stats import hierarchical_paired, paired_animal_means, paired_tests

NAME = "state"
ORDER = 40

READOUTS = ("amplitude", "response", "strength")


class Options(AnalysisOptions):
    """Options of the state analysis (config ``analyses: {state: {...}}``)."""

    states: list | None = None
    emotions: list | None = None
    readout: Literal[READOUTS] = "amplitude"  # type: ignore[valid-type]
    direction: Literal[DIRECTIONS] = "pooled"  # type: ignore[valid-type]
    match_intensity: bool = True
    n_boot: int = n_boot_field(2000)
    ci: float = ci_field()
    seed: int = 0
    valid_only: bool = True


def state_order(trials: pd.DataFrame, wanted: list | None) -> list[str]:
    """States to compare, checked: at least 2, each with trials of at least 2 animals."""
    if "state" not in trials or trials["state"].isna().all():
        raise InputError(
            "no internal states: give each session a 'state' in the config (or a 'state' "
            "column in the events) to compare expression between states"
        )
    t = trials.dropna(subset=["state"])
    found = list(dict.fromkeys(t["state"].astype(str)))
    states = found if wanted is None else [str(s) for s in wanted]
    missing = [s for s in states if s not in found]
    if missing:
        raise InputError(f"analyses.state.states: {missing} not found; states in the data: {found}")
    if len(states) < 2:
        raise InputError(f"a state comparison needs at least 2 states, found {states}")
    for s in states:
        animals = sorted(t.loc[t["state"].astype(str) == s, "animal"].astype(str).unique())
        if len(animals) < 2:
            raise InputError(
                f"state {s!r} has trials of only {len(animals)} animal ({', '.join(animals)}); "
                "a comparison paired by animal needs at least 2 animals in every state"
            )
    return states


def _column(readout: str, emotion: str) -> str:
    return {"response": "response", "strength": f"strength_{emotion}"}.get(readout, readout)


def _split(g: pd.DataFrame, col: str, state: str, animals: list[str], match: bool):
    vals, strata = [], []
    for a in animals:
        ga = g[(g["animal"].astype(str) == a) & (g["state"].astype(str) == state)]
        vals.append(ga[col].to_numpy(float))
        x = ga["intensity"].to_numpy(float) if "intensity" in ga else np.zeros(len(ga))
        strata.append(np.where(np.isfinite(x), x, -1.0) if match else np.zeros(len(ga)))
    return vals, strata


def compare(g: pd.DataFrame, emotion: str, sa: str, sb: str, opt: dict):
    """Rows of the effects and per-animal tables for one emotion and one pair of states."""
    in_a = set(g.loc[g["state"].astype(str) == sa, "animal"].astype(str))
    in_b = set(g.loc[g["state"].astype(str) == sb, "animal"].astype(str))
    animals = sorted(in_a & in_b)
    if len(animals) < 2:
        raise InputError(
            f"{emotion}: {sa} vs {sb}: {len(animals)} animal(s) have trials in both states; "
            "need at least 2"
        )
    effects, per_animal = [], []
    for readout in READOUTS:
        col = _column(readout, emotion)
        if col not in g or not np.isfinite(g[col].astype(float)).any():
            continue
        a, a_s = _split(g, col, sa, animals, opt["match_intensity"])
        b, b_s = _split(g, col, sb, animals, opt["match_intensity"])
        ma, mb, kept = paired_animal_means(a, b, a_strata=a_s, b_strata=b_s)
        if len(kept) < 2:
            continue
        boot = hierarchical_paired(
            a, b, a_strata=a_s, b_strata=b_s,
            n_boot=opt["n_boot"], ci=opt["ci"], seed=opt["seed"],
        )  # fmt: skip
        tests = paired_tests(ma, mb)
        key = {"emotion": emotion, "state_a": sa, "state_b": sb, "readout": readout}
        d, r = boot["diff"], boot["ratio"]
        effects.append({
            **key, "primary": readout == opt["readout"], "n_animals": len(kept),
            "n_trials_a": int(sum(len(a[k]) for k in kept)),
            "n_trials_b": int(sum(len(b[k]) for k in kept)),
            "mean_a": boot["a"].value, "mean_a_low": boot["a"].ci_low,
            "mean_a_high": boot["a"].ci_high, "mean_b": boot["b"].value,
            "mean_b_low": boot["b"].ci_low, "mean_b_high": boot["b"].ci_high,
            "diff": d.value, "diff_low": d.ci_low, "diff_high": d.ci_high,
            "ratio": r.value, "ratio_low": r.ci_low, "ratio_high": r.ci_high,
            "t": tests["t"], "p_t": tests["p_t"], "w": tests["w"],
            "p_wilcoxon": tests["p_wilcoxon"], "dz": tests["dz"],
        })  # fmt: skip
        for k, va, vb in zip(kept, ma, mb, strict=True):
            ratio = va / vb if vb > 0 else np.nan
            per_animal.append({**key, "animal": animals[k], "mean_a": va, "mean_b": vb,
                               "diff": va - vb, "ratio": ratio,
                               "n_a": len(a[k]), "n_b": len(b[k])})  # fmt: skip
    return effects, per_animal


def run(ctx: Context) -> Result:
    """Paired state comparisons (see module docstring)."""
    opt = check_options(NAME, ctx.options, Options)
    trials = use_trials(ctx.trials, valid_only=opt["valid_only"])
    states = state_order(trials, opt["states"])
    t = trials[trials["state"].astype("string").isin(states)].copy()
    if opt["emotions"] is not None:
        t = t[t["emotion"].astype(str).isin([str(e) for e in opt["emotions"]])]
    t = t[t["emotion"].astype(str) != "neutral"]
    t["amplitude"] = trial_amplitudes(ctx, t, direction=opt["direction"])
    effects, per_animal, unpaired = [], [], []
    for emotion, g in t.groupby("emotion", sort=True):
        for sa, sb in combinations(states, 2):
            try:
                e, p = compare(g, str(emotion), sa, sb, opt)
            except InputError:
                unpaired.append(f"{emotion} ({sa} vs {sb})")
                continue
            effects += e
            per_animal += p
    why = "fewer than 2 animals with trials in both states"
    if not effects:
        raise InputError(
            f"no emotion can be compared between states ({why}): {', '.join(unpaired)}"
        )
    notes = [f"not compared ({why}): {', '.join(unpaired)}"] if unpaired else []
    tables = {"effects": pd.DataFrame(effects), "animals": pd.DataFrame(per_animal)}
    summary = {}
    for _, r in tables["effects"][tables["effects"]["primary"]].iterrows():
        k = f"{r['emotion']}.{r['state_a']}_vs_{r['state_b']}"
        summary |= {
            f"{k}.ratio": r["ratio"], f"{k}.ratio_low": r["ratio_low"],
            f"{k}.ratio_high": r["ratio_high"], f"{k}.diff": r["diff"],
            f"{k}.diff_low": r["diff_low"], f"{k}.diff_high": r["diff_high"],
            f"{k}.p_t": r["p_t"], f"{k}.p_wilcoxon": r["p_wilcoxon"], f"{k}.dz": r["dz"],
            f"{k}.n_animals": int(r["n_animals"]),
        }  # fmt: skip
    html = state_section(tables, opt=opt, notes=notes)
    return Result(tables=tables, summary=json_safe(summary), section_html=html, notes=notes)
