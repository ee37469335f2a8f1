"""Change of meaning: does a stimulus's face turn from its own prototype toward another?

Example (conditioned taste aversion): sucrose evokes pleasure; after sucrose was paired with LiCl
its face turns toward disgust. Trials of the stimulus are grouped by their ``state`` (session or
trial state): ``before`` (e.g. ``pre``, or every unpaired state) and ``after`` (e.g. ``paired``
/ ``post``). Prototypes (directions) are rebuilt per animal from the *reference* trials only
(every trial not in an ``after`` state), so the trials under test never shape them; a reference
trial of the stimulus is scored against directions built without its own frames.

Options (config ``analyses: {meaning: {...}}``): ``stimulus`` (trial_type, default ``sucrose``),
``before`` / ``after`` (state or list of states), ``toward`` (emotion, default ``disgust``),
``control`` (two unpaired states compared the same way as a negative control; default the first
two ``before`` states), ``n_permutations``, ``n_bootstrap``, ``ci``, ``seed``.
See :mod:`mouseface.expression.meaning` for the scores (``share``, ``preference``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from mouseface.analyses._beyond import SessionWindows, session_windows
from mouseface.analyses._meaning_report import meaning_section
from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression.meaning import condition_effect, direction, nearest_class, trial_scores
from mouseface.expression.prototypes import pearson_rows

NAME = "meaning"
ORDER = 60


class Options(AnalysisOptions):
    """Options of the meaning analysis (config ``analyses: {meaning: {...}}``)."""

    stimulus: str = "sucrose"
    before: str | list | None = None
    after: str | list | None = None
    toward: str = "disgust"
    control: str | list | None = None
    n_permutations: int = Field(5000, ge=1)
    n_bootstrap: int = n_boot_field(2000)
    ci: float = ci_field()
    seed: int = 0


_AFTER_NAMES = ("paired", "post", "post_pairing", "after", "conditioned")


def _as_list(v: object) -> list[str]:
    return [v] if isinstance(v, str) else [str(x) for x in v]


def _conditions(opt: dict, stim: pd.DataFrame) -> tuple[list[str], list[str], list[str] | None]:
    present = list(dict.fromkeys(stim["cond"]))
    stimulus = opt["stimulus"]
    if opt["after"] is not None:
        after = _as_list(opt["after"])
    else:
        after = [s for s in _AFTER_NAMES if s in present][:1]
    if not after or not set(after) & set(present):
        raise InputError(
            f"no {stimulus!r} trials in an 'after' state (states with {stimulus!r}: "
            f"{', '.join(present)}); set analyses.meaning.after to the state of the sessions "
            "after pairing"
        )
    if opt["before"] is not None:
        before = _as_list(opt["before"])
    else:
        before = ["pre"] if "pre" in present else [s for s in present if s not in after]
    if not set(before) & set(present) or set(before) & set(after):
        raise InputError(
            f"no {stimulus!r} trials in a 'before' state distinct from after={after} (states: "
            f"{', '.join(present)}); set analyses.meaning.before"
        )
    control = opt["control"]
    if control is None:
        kept = [s for s in before if s in present]
        control = kept[:2] if len(kept) >= 2 else None
    elif len(_as_list(control)) != 2:
        raise InputError(f"analyses.meaning.control must name two states, got {control!r}")
    return before, after, None if control is None else _as_list(control)


def _candidates(sw: SessionWindows, ctx: Context, after: list[str]) -> list[tuple]:
    """(emotion, trial uid, displacement rows, r with neutral) of the session's reference trials
    (those not in an ``after`` state)."""
    out = []
    for k, row in sw.trials.iterrows():
        if row["cond"] in after:
            continue
        idx = sw.response[k]
        hog = ctx.hog(sw.session, idx)
        r = pearson_rows(hog, sw.neutral)
        out.append((row["emotion"], (sw.session, int(row["trial"])), hog - sw.neutral, r))
    return out


def _change_threshold(ctx: Context, sw: SessionWindows, q: float = 95.0) -> float:
    """95th percentile of the session's baseline-frame change (1 - r with its neutral)."""
    rows = np.unique(np.concatenate(sw.baseline))
    return float(np.percentile(1.0 - pearson_rows(ctx.hog(sw.session, rows), sw.neutral), q))


def _directions(cands: list[tuple], n: int, exclude=None) -> dict[str, np.ndarray]:
    by: dict[str, list] = {}
    for emo, uid, disp, r in cands:
        if uid != exclude:
            by.setdefault(emo, []).append((disp, r))
    return {
        e: direction(np.concatenate([d for d, _ in v]), np.concatenate([r for _, r in v]), n=n)
        for e, v in by.items()
    }


def _score_animal(ctx, sws, opt, own, toward, after, n, fallback, notes) -> list[dict]:
    stimulus = opt["stimulus"]
    cands = []
    for sw in sws:
        cands += _candidates(sw, ctx, after)
    full = _directions(cands, n)
    for e in (own, toward):
        if e not in full:
            if e not in fallback:
                raise InputError(f"no reference trials with emotion {e!r} in any animal")
            full[e] = fallback[e]
            notes.append(f"{sws[0].animal}: no reference {e} trials; used other animals' mean")
    own_uids = {c[1] for c in cands if c[0] == own}
    sw_threshold = {sw.session: _change_threshold(ctx, sw) for sw in sws}
    rows = []
    for sw in sws:
        for k, row in sw.trials.iterrows():
            if row["trial_type"] != stimulus:
                continue
            uid = (sw.session, int(row["trial"]))
            dirs = dict(full)
            if uid in own_uids:
                loo = _directions([c for c in cands if c[0] == own], n, exclude=uid)
                dirs[own] = loo.get(own, fallback.get(own, full[own]))
            resp = ctx.hog(sw.session, sw.response[k])
            base = ctx.hog(sw.session, sw.baseline[k])
            sc = trial_scores([resp], [base], sw.neutral, dirs, own=own, toward=toward)
            nearest = nearest_class(resp, sw.neutral, dirs, threshold=sw_threshold[sw.session])
            cls = pd.Series(nearest).value_counts(normalize=True)
            rec = {
                "session": sw.session,
                "animal": sw.animal,
                "trial": int(row["trial"]),
                "state": row["cond"],
                "intensity": row.get("intensity", np.nan),
                "reference": row["cond"] not in after,
                **sc.iloc[0].to_dict(),
            }
            rec |= {f"frac_{c}": float(cls.get(c, 0.0)) for c in ["neutral", *dirs]}
            rows.append(rec)
    return rows, full


def _effects(table: pd.DataFrame, own: str, toward: str, pairs, opt) -> pd.DataFrame:
    rows = []
    kw = {
        "n_perm": int(opt["n_permutations"]),
        "n_boot": int(opt["n_bootstrap"]),
        "ci": float(opt["ci"]),
        "seed": int(opt["seed"]),
    }
    for comparison, (before, after) in pairs.items():
        t = table.copy()
        t["condition"] = np.where(
            t["state"].isin(before), "before", np.where(t["state"].isin(after), "after", "")
        )
        for metric, num, den in (
            ("share", f"w_{toward}", "w_total"),
            ("preference", "preference", None),
        ):
            t["w_total"] = t[f"w_{own}"] + t[f"w_{toward}"]
            eff = condition_effect(t, num=num, den=den, before="before", after="after", **kw)
            per = eff.pop("per_animal")
            rows.append(
                {
                    "comparison": comparison,
                    "before": "+".join(before),
                    "after": "+".join(after),
                    "metric": metric,
                    "before_value": float(per["before"].mean()),
                    "after_value": float(per["after"].mean()),
                    **eff,
                }
            )
    return pd.DataFrame(rows)


def run(ctx: Context) -> Result:
    """Compare the face a stimulus evokes before and after a change of its meaning."""
    opt = check_options(NAME, ctx.options, Options)
    trials = ctx.trials
    stimulus, toward = opt["stimulus"], opt["toward"]
    if stimulus not in set(trials["trial_type"]):
        raise InputError(
            f"no trials of stimulus {stimulus!r} (trial types: "
            f"{', '.join(sorted(set(trials['trial_type'])))}); set analyses.meaning.stimulus"
        )
    own = str(trials.loc[trials["trial_type"] == stimulus, "emotion"].iloc[0])
    if toward == own or toward not in set(trials["emotion"]):
        raise InputError(
            f"analyses.meaning.toward={toward!r} must be another emotion with trials (emotions: "
            f"{', '.join(sorted(set(trials['emotion'])))})"
        )
    sessions = [s for s in ctx.sessions if (trials["session"] == s).any()]
    sws = [session_windows(ctx, s) for s in sessions]
    stim = pd.concat([sw.trials[sw.trials["trial_type"] == stimulus] for sw in sws])
    before, after, control = _conditions(opt, stim)
    n = int(ctx.config.prototype_frames)
    notes: list[str] = []
    by_animal: dict[str, list[SessionWindows]] = {}
    for sw in sws:
        by_animal.setdefault(sw.animal, []).append(sw)
    rows, dirs = [], {}
    for animal, group in by_animal.items():
        try:
            r, d = _score_animal(ctx, group, opt, own, toward, after, n, {}, notes)
        except InputError:
            continue  # retried below with the other animals' directions
        rows += r
        dirs[animal] = d
    fallback = {
        e: np.mean([d[e] for d in dirs.values() if e in d], axis=0)
        for e in (own, toward)
        if any(e in d for d in dirs.values())
    }
    for animal, group in by_animal.items():
        if animal not in dirs:
            r, d = _score_animal(ctx, group, opt, own, toward, after, n, fallback, notes)
            rows += r
    table = pd.DataFrame(rows)
    pairs = {"test": (before, after)}
    if control is not None:
        pairs["control"] = ([control[0]], [control[1]])
    effects = _effects(table, own, toward, pairs, opt)
    test = effects[(effects["comparison"] == "test") & (effects["metric"] == "share")].iloc[0]
    summary = {
        "stimulus": stimulus,
        "own": own,
        "toward": toward,
        "share_change": test["value"],
        "share_change_ci": [test["ci_low"], test["ci_high"]],
        "share_p": test["p_permutation"],
        "n_animals": int(test["n_animals"]),
    }
    ctl = effects[(effects["comparison"] == "control") & (effects["metric"] == "share")]
    if len(ctl):
        summary |= {"control_share_change": ctl["value"].iloc[0], "control_p": ctl[
            "p_permutation"].iloc[0]}  # fmt: skip
    else:
        notes.append("meaning: no control comparison (needs two unpaired states)")
    classes = _class_table(table)
    section = meaning_section(table, effects, classes, own=own, toward=toward, opt=opt)
    return Result(
        tables={"trials": table, "effects": effects, "classes": classes},
        summary=summary,
        section_html=section,
        notes=notes,
    )


def _class_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean fraction of response-window frames nearest each prototype, per animal and state."""
    cols = [c for c in table.columns if c.startswith("frac_")]
    long = table.melt(
        id_vars=["animal", "state"], value_vars=cols, var_name="prototype", value_name="fraction"
    )
    long["prototype"] = long["prototype"].str.removeprefix("frac_")
    return long.groupby(["state", "animal", "prototype"], as_index=False)["fraction"].mean()
