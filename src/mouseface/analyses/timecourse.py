"""Time-course analysis: stimulus-locked expression over time per emotion, with onset latency,
peak and decay time constant.

Every trial's readout is binned at the frame rate from the baseline window's start to ``post``
seconds after the onset, cut at the next stimulus onset of the session (or the end of the
video), and the trial's baseline-window mean is subtracted. Per emotion: the mean over trials
with a bootstrap band, the empirical peak of the mean, and a least-squares fit of the
rise-then-exponential-decay model of :mod:`mouseface.expression.timecourse` (latency, rise,
decay; the drive is each trial's stimulus ``duration``), with intervals from resampling trials.

The default readout is ``amplitude``: each frame's HOG change from its session's neutral face,
projected on the emotion's direction and scaled so that the direction's end reads 1. Where HOG
changes in proportion to the expression, an exponential decay of the expression is an exponential
decay of the readout with the same time constant. ``strength`` (Pearson r) and ``change`` are not
linear in amplitude and bias the time constants.

Which direction (``direction``): ``peak`` (default) is the animal's own mean HOG change over the
last ``peak_window`` seconds before each trial's peak (latency + drive, from a first pass with
the pooled prototype): the face at its strongest while the stimulus still drives it, averaged
over frames and trials (the mean over animals for an animal without trials of the emotion).
``pooled`` / ``animal`` use the prototypes of ``prototypes.nc``, the 10 response-window frames
least like neutral. Why ``peak``: frames picked for being extreme carry transients (a tongue
out while licking sucrose) and a direction fitted to another animal's face reads this one's
weaker phases -- the decay -- bent. On the ``mouseface demo`` data (true decay constants:
pleasure 1.5 s, malaise 120 s) the pooled prototype gave pleasure 1.10 s and malaise 294 s, the
animal's prototype 1.09 s and 222 s, ``peak`` 1.51 s and 160 s.

HOG does not change in proportion to every face change: a rotating ear changes its cells'
histograms steeply at first and then less and less (L2-Hys normalisation per cell, hard
assignment to cells and bins), and a flattened ear stops changing its cells past a point. An
expression whose HOG readout is concave in its amplitude decays slower in the readout than in
the face: on the demo data passive fear reads 1.9 s for a true 1.5 s and malaise 160 s for 120 s
(the report says so; ``docs/timecourse.md`` has the measured response curves).

A decay can only be measured while the video lasts: where the traces end before one fitted time
constant has passed after the peak, the note and the table's ``decay_resolved = False`` say so,
and the interval of the decay (from the interval of its rate) may be open above (``inf``).

Options (``analyses: {timecourse: {...}}``): ``readout`` (amplitude | strength | change),
``emotions`` (default all), ``direction`` (peak | pooled | animal), ``peak_window`` (s, 1),
``post`` (s after onset, default 300), ``max_latency`` (s, 2), ``n_boot`` (200), ``ci`` (0.95),
``seed`` (0), ``valid_only`` (true).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from mouseface.analyses._effects import json_safe, use_trials
from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses._timecourse_report import timecourse_section
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression.readout import (
    DIRECTIONS,
    good_frames,
    mean_change,
    pooled_change,
    session_amplitude,
)
from mouseface.expression.timecourse import (
    bootstrap_rise_decay,
    empirical_peak,
    fit_rise_decay,
    locked_matrix,
    mean_ci,
)

NAME = "timecourse"
ORDER = 50

READOUTS = ("amplitude", "strength", "change")
TC_DIRECTIONS = ("peak", *DIRECTIONS)


class Options(AnalysisOptions):
    """Options of the time-course analysis (config ``analyses: {timecourse: {...}}``)."""

    readout: Literal[READOUTS] = "amplitude"  # type: ignore[valid-type]
    emotions: list | None = None
    direction: Literal[TC_DIRECTIONS] = "peak"  # type: ignore[valid-type]
    peak_window: float = 1.0
    post: float = 300.0
    max_latency: float = 2.0
    n_boot: int = n_boot_field(200)
    ci: float = ci_field()
    seed: int = 0
    valid_only: bool = True


def _fps(times: np.ndarray) -> float:
    d = np.diff(times)
    d = d[d > 0]
    return float(1.0 / np.median(d)) if d.size else 1.0


def _animal_vectors(vectors: dict, ctx: Context, session: str, emotions: list) -> np.ndarray:
    own = vectors.get(ctx.session_animal(session), {})
    pooled = pooled_change(vectors)
    missing = [e for e in emotions if e not in pooled]
    if missing:
        raise InputError(
            f"timecourse: no frame lies in the window before the peak of any {missing} trial, "
            "so the readout has no direction; set analyses.timecourse.direction: pooled"
        )
    return np.stack([own[e] if e in own else pooled[e] for e in emotions])


def locked_traces(
    ctx: Context, trials: pd.DataFrame, opt: dict, vectors: dict | None = None
) -> tuple[np.ndarray, dict]:
    """Baseline-corrected stimulus-locked traces of every trial, grouped by emotion.

    ``vectors`` (``{animal: {emotion: HOG change (d,)}}``, from
    :func:`mouseface.expression.readout.mean_change`) replaces the prototypes as the amplitude
    readout's directions (``opt["direction"]`` is then not used): the session's animal's own
    where it has one, else the mean over animals.

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
                ctx, session, emos, index=idx, direction=opt["direction"],
                vectors=None if vectors is None else _animal_vectors(vectors, ctx, session, emos),
            )  # fmt: skip
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


def peak_windows(t: np.ndarray, traces: dict, opt: dict, response: tuple[float, float]) -> dict:
    """Window of ``peak_window`` s ending at each trial's peak, from a first-pass fit.

    A trial's peak is at the emotion's fitted latency plus the trial's drive (its stimulus
    duration; the fitted drive where durations are unknown): the window is the last part of the
    drive, where the face is at its strongest (``[0, peak_window]`` when the peak comes earlier).
    An emotion whose first-pass fit fails keeps the response window.

    Returns
    -------
    dict
        ``{trial key: (start, end)}``, seconds after onset.
    """
    width = float(opt["peak_window"])
    out = {}
    for M, durations, keys in traces.values():
        drives = durations if np.all(durations > 0) else None
        try:
            fit = fit_rise_decay(t, M, drives=drives, max_latency=opt["max_latency"])
        except InputError:
            out |= {k: tuple(response) for k in keys}
            continue
        peaks = fit.latency + durations if drives is not None else np.full(len(keys), fit.peak_time)
        for k, peak in zip(keys, peaks, strict=True):
            end = max(float(peak), width)
            out[k] = (max(end - width, 0.0), end)
    return out


def _window_span(windows: dict, trials: pd.DataFrame, emotion: str) -> tuple[float, float]:
    """Median start and end of an emotion's direction windows (NaN when not used)."""
    w = [windows[k] for k in trials.index[trials["emotion"].astype(str) == emotion] if k in windows]
    return tuple(np.median(w, axis=0)) if w else (np.nan, np.nan)


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


def _interval(low: float, high: float) -> str:
    if not np.isfinite(high):
        return f"{low:.3g} s and up"
    return f"{low:.3g} to {high:.3g} s"


def _unresolved_note(e: str, fit, rows: list[dict]) -> str:
    low, high = next(
        (r["ci_low"], r["ci_high"])
        for r in rows
        if r["parameter"] == "decay" and r["source"] == "fit"
    )
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
        f"of the decline is visible, so the constant is extrapolated (interval "
        f"{_interval(low, high)}, from resampling trials; a readout that is not linear in the "
        f"face biases it, see docs/timecourse.md){tail}"
    )


def run(ctx: Context) -> Result:
    """Stimulus-locked traces and rise-then-decay fits per emotion (see module docstring)."""
    opt = check_options(NAME, ctx.options, Options)
    for key in ("post", "peak_window"):
        if not (isinstance(opt[key], int | float) and opt[key] > 0):
            raise InputError(f"analyses.timecourse.{key}: must be a number of seconds > 0")
    trials = use_trials(ctx.trials, valid_only=opt["valid_only"])
    trials = trials[trials["emotion"].astype(str) != "neutral"]
    known = {str(e) for e in ctx.prototypes["emotion"].values} - {"neutral"}
    wanted = known if opt["emotions"] is None else {str(e) for e in opt["emotions"]}
    trials = trials[trials["emotion"].astype(str).isin(wanted & known)]
    if trials.empty:
        raise InputError("no trial of an emotion with a prototype to align (all neutral?)")
    windows = {}
    if opt["readout"] == "amplitude" and opt["direction"] == "peak":
        t_all, traces = locked_traces(ctx, trials, {**opt, "direction": "pooled"})
        windows = peak_windows(t_all, traces, opt, ctx.windows["response"])
        fitted = trials.loc[[k for k in trials.index if k in windows]]
        vectors = mean_change(ctx, fitted, np.array([windows[k] for k in fitted.index]))
        t_all, traces = locked_traces(ctx, trials, opt, vectors=vectors)
    else:
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
            for r in rows:
                r["direction"] = opt["direction"] if opt["readout"] == "amplitude" else None
                r["direction_start"], r["direction_end"] = _window_span(windows, trials, e)
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
