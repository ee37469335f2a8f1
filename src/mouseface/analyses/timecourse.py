"""Time-course analysis: stimulus-locked expression over time per emotion, with onset latency,
peak and decay time constant.

Every trial's readout is binned at the frame rate from the baseline window's start to ``post``
seconds after the onset, cut at the next stimulus onset of the session (or the end of the
video), and the trial's baseline-window mean is subtracted. Per emotion: the mean over trials
with a bootstrap band, the empirical peak of the mean, and a least-squares fit of the
rise-then-exponential-decay model of :mod:`mouseface.expression.timecourse` (latency, rise,
decay; the drive is each trial's stimulus ``duration``), with intervals from resampling trials.

The default readout is ``amplitude`` (projection on the emotion's direction): proportional to the
expression's amplitude, so an exponential decay of the expression is an exponential decay of
the readout with the same time constant. ``strength`` (Pearson r) and ``change`` are not linear
in amplitude and bias the time constants.

A decay can only be measured while the video lasts: where the traces end before one fitted time
constant has passed after the peak, the note and the table's ``decay_resolved = False`` say so,
and the interval of the decay (from the interval of its rate) may be open above (``inf``).

Options (``analyses: {timecourse: {...}}``): ``readout`` (amplitude | strength | change),
``emotions`` (default all), ``direction`` (pooled | animal), ``post`` (s after onset, default
300), ``max_latency`` (s, 2), ``n_boot`` (200), ``ci`` (0.95), ``seed`` (0), ``valid_only``
(true).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mouseface.analyses._effects import json_safe, use_trials
from mouseface.analyses._timecourse_report import timecourse_section
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression._options import check_options
from mouseface.expression._readout import DIRECTIONS, good_frames, session_amplitude
from mouseface.expression.timecourse import (
    bootstrap_rise_decay,
    empirical_peak,
    locked_matrix,
    mean_ci,
)

NAME = "timecourse"
ORDER = 50

READOUTS = ("amplitude", "strength", "change")
DEFAULTS = {
    "readout": "amplitude",
    "emotions": None,
    "direction": "pooled",
    "post": 300.0,
    "max_latency": 2.0,
    "n_boot": 200,
    "ci": 0.95,
    "seed": 0,
    "valid_only": True,
}


def _fps(times: np.ndarray) -> float:
    d = np.diff(times)
    d = d[d > 0]
    return float(1.0 / np.median(d)) if d.size else 1.0


def locked_traces(ctx: Context, trials: pd.DataFrame, opt: dict) -> tuple[np.ndarray, dict]:
    """Baseline-corrected stimulus-locked traces of every trial, grouped by emotion.

    Returns
    -------
    t : ndarray, shape (b,)
        Bin times relative to onset, s.
    traces : dict
        ``{emotion: (matrix (m, b), durations (m,), trial rows)}``.
    """
    base = ctx.windows["baseline"]
    span = (min(base[0], 0.0), float(opt["post"]))
    fps = None
    out: dict[str, list] = {}
    emotions = sorted(set(trials["emotion"].astype(str)))
    for session in dict.fromkeys(trials["session"].astype(str)):
        frames = ctx.frames(session)
        times = frames["time"].to_numpy(float)
        fps = fps or _fps(times)
        everything = ctx.trials[ctx.trials["session"].astype(str) == session]
        onsets_all = np.sort(everything["onset"].to_numpy(float))
        mine = trials[trials["session"].astype(str) == session]
        stops = np.array([
            onsets_all[onsets_all > o].min() if (onsets_all > o).any() else np.inf
            for o in mine["onset"].to_numpy(float)
        ])  # fmt: skip
        need = np.zeros(len(times), bool)
        for o, stop in zip(mine["onset"], stops, strict=True):
            need |= (times >= o + span[0]) & (times < min(o + span[1] + 1.0 / fps, stop))
        idx = np.flatnonzero(need)
        emos = sorted(set(mine["emotion"].astype(str)))
        values = np.full((len(times), len(emos)), np.nan)
        if opt["readout"] == "amplitude":
            values[idx] = session_amplitude(
                ctx, session, emos, index=idx, direction=opt["direction"]
            )
        else:
            for j, e in enumerate(emos):
                col = "change" if opt["readout"] == "change" else f"strength_{e}"
                if col in frames:
                    values[:, j] = frames[col].to_numpy(float)
        good = good_frames(frames)
        for (key, row), stop in zip(mine.iterrows(), stops, strict=True):
            j = emos.index(str(row["emotion"]))
            t, M = locked_matrix(times, values[:, j], [float(row["onset"])], span=span,
                                 fps=fps, stops=[stop], good=good)  # fmt: skip
            b = (t >= base[0]) & (t < base[1])
            M = M - np.nanmean(M[:, b]) if np.isfinite(M[:, b]).any() else M * np.nan
            dur = float(row["duration"]) if "duration" in row and pd.notna(row["duration"]) else 0
            out.setdefault(str(row["emotion"]), []).append((M[0], dur, key))
    traces = {
        e: (np.stack([r[0] for r in rows]), np.array([r[1] for r in rows]), [r[2] for r in rows])
        for e, rows in out.items()
        if e in emotions
    }
    return t, traces


def _fit_rows(e: str, t: np.ndarray, M: np.ndarray, durations: np.ndarray, opt: dict):
    drives = durations if np.all(durations > 0) else None
    fit, iv = bootstrap_rise_decay(
        t, M, drives=drives, n_boot=opt["n_boot"], ci=opt["ci"], seed=opt["seed"],
        max_latency=opt["max_latency"],
    )  # fmt: skip
    emp = empirical_peak(t, M, n_boot=max(opt["n_boot"], 200), ci=opt["ci"], seed=opt["seed"])
    resolved = bool(np.isfinite(fit.decay) and fit.observed_decay >= fit.decay)
    common = {"emotion": e, "n_trials": fit.n_trials, "r2": fit.r2,
              "observed_decay": fit.observed_decay, "decay_resolved": resolved}  # fmt: skip
    units = {"amplitude": "readout", "latency": "s", "rise": "s", "decay": "s", "drive": "s",
             "peak_time": "s", "peak": "readout"}  # fmt: skip
    rows = []
    for p, unit in units.items():
        if p == "drive" and fit.drive_fixed:
            lo = hi = np.nan
        else:
            lo, hi = iv[p]
        rows.append({**common, "parameter": p, "source": "fit", "value": getattr(fit, p),
                     "ci_low": lo, "ci_high": hi, "unit": unit})  # fmt: skip
    for p, (v, lo, hi) in emp.items():
        rows.append({**common, "parameter": p, "source": "mean_trace", "value": v,
                     "ci_low": lo, "ci_high": hi, "unit": units[p]})  # fmt: skip
    return fit, rows


def _unresolved_note(e: str, fit, rows: list[dict]) -> str:
    low = next(r["ci_low"] for r in rows if r["parameter"] == "decay" and r["source"] == "fit")
    head = f"{e}: the traces end {fit.observed_decay:.0f} s after the peak"
    tail = "; longer recordings after the stimulus would pin the decay down"
    if not np.isfinite(fit.decay):
        return (
            f"{head} and show no decline: the decay time constant is only bounded below "
            f"({low:.3g} s){tail}"
        )
    seen = 100 * (1 - np.exp(-fit.observed_decay / fit.decay))
    return (
        f"{head}, less than the fitted decay time constant ({fit.decay:.3g} s): about {seen:.0f}% "
        f"of the decline is visible, so the constant is extrapolated (interval {low:.3g} s and "
        f"up){tail}"
    )


def run(ctx: Context) -> Result:
    """Stimulus-locked traces and rise-then-decay fits per emotion (see module docstring)."""
    opt = check_options(
        NAME, ctx.options, DEFAULTS, choices={"readout": READOUTS, "direction": DIRECTIONS}
    )
    if not (isinstance(opt["post"], int | float) and opt["post"] > 0):
        raise InputError("analyses.timecourse.post: must be a number of seconds > 0")
    trials = use_trials(ctx.trials, valid_only=opt["valid_only"])
    trials = trials[trials["emotion"].astype(str) != "neutral"]
    known = {str(e) for e in ctx.prototypes["emotion"].values} - {"neutral"}
    wanted = known if opt["emotions"] is None else {str(e) for e in opt["emotions"]}
    trials = trials[trials["emotion"].astype(str).isin(wanted & known)]
    if trials.empty:
        raise InputError("no trial of an emotion with a prototype to align (all neutral?)")
    t_all, traces = locked_traces(ctx, trials, opt)
    params, curves, notes = [], [], []
    for e, (M_all, durations, _) in sorted(traces.items()):
        last = np.flatnonzero(np.isfinite(M_all).any(axis=0))
        cut = last[-1] + 1 if last.size else 1  # bins after every trace ended carry nothing
        t, M = t_all[:cut], M_all[:, :cut]
        mean, lo, hi, n = mean_ci(M, n_boot=1000, ci=opt["ci"], seed=opt["seed"])
        keep = n > 0
        try:
            fit, rows = _fit_rows(e, t, M, durations, opt)
        except InputError as exc:
            notes.append(f"{e}: no time-course fit ({exc})")
            fit = None
        else:
            params += rows
            if not rows[0]["decay_resolved"]:
                notes.append(_unresolved_note(e, fit, rows))
        curves.append(pd.DataFrame({
            "emotion": e, "time": t[keep], "mean": mean[keep], "ci_low": lo[keep],
            "ci_high": hi[keep], "n": n[keep],
            "fit": fit.curve(t[keep]) if fit is not None else np.nan,
        }))  # fmt: skip
    if not params:
        raise InputError("no emotion's time course could be fitted: " + "; ".join(notes))
    tables = {"params": pd.DataFrame(params), "curves": pd.concat(curves, ignore_index=True)}
    summary = {}
    for _, r in tables["params"][tables["params"]["source"] == "fit"].iterrows():
        if r["parameter"] in ("latency", "decay", "peak_time", "peak", "rise"):
            k = f"{r['emotion']}.{r['parameter']}"
            summary |= {k: r["value"], f"{k}_low": r["ci_low"], f"{k}_high": r["ci_high"]}
    html = timecourse_section(tables, opt=opt, notes=notes)
    return Result(tables=tables, summary=json_safe(summary), section_html=html, notes=notes)
