"""Per-animal calibration of expression strength, its uncertainty and baseline drift.

- ``calibration_strength``: every frame of every session with ``strength_<e>`` (as in
  ``frames.parquet``), ``strength_<e>_sd`` and ``strength_<e>_low`` / ``_high`` (bootstrap over
  the frames that make the animal's prototype: the prototype's frames are resampled with
  replacement, ``n_bootstrap`` times) and ``z_<e>``: the strength relative to the animal's own
  baseline (session baseline median subtracted, divided by the animal's robust baseline SD).
- ``calibration_drift``: per session, the distance ``1 - r`` of its neutral prototype from the
  animal's mean neutral (bootstrap CI over baseline frames) and from the animal's first session
  (``distance_to_first``), and the median and robust SD of each raw strength over its baseline
  frames: the day-to-day shift that ``z`` removes.
- ``calibration_uncertainty``: per animal and emotion, the median and 95th percentile of the
  per-frame SD, and whether the rebuilt prototype equals the one in ``prototypes.nc``.

Options: ``n_bootstrap`` (200), ``ci`` (0.95), ``seed`` (0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mouseface.analyses._beyond import SessionWindows, session_windows
from mouseface.analyses._calibration_report import calibration_section
from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression.calibration import (
    baseline_z,
    bootstrap_prototypes,
    neutral_drift,
    robust_sd,
    strength_uncertainty,
)
from mouseface.expression.prototypes import pearson_rows

NAME = "calibration"
ORDER = 80


class Options(AnalysisOptions):
    """Options of the calibration analysis (config ``analyses: {calibration: {...}}``)."""

    n_bootstrap: int = n_boot_field(200)
    ci: float = ci_field()
    seed: int = 0


_BLOCK = 4096


def _prototype_frames(ctx: Context, sws: list[SessionWindows], n: int) -> dict[str, np.ndarray]:
    """HOG rows of the ``n`` response frames least like neutral, per emotion (pipeline's rule)."""
    cand: dict[str, tuple[list, list]] = {}
    for sw in sws:
        change = sw.frames["change"].to_numpy()
        for k, emo in enumerate(sw.trials["emotion"]):
            idx = sw.response[k]
            h, r = cand.setdefault(emo, ([], []))
            h.append(ctx.hog(sw.session, idx))
            r.append(1.0 - change[idx])
    out = {}
    for emo, (h, r) in cand.items():
        r_all = np.concatenate(r)
        order = np.argsort(np.where(np.isnan(r_all), np.inf, r_all), kind="stable")[:n]
        out[emo] = np.concatenate(h)[order]
    return out


def _baseline_mask(sw: SessionWindows) -> np.ndarray:
    mask = np.zeros(len(sw.frames), dtype=bool)
    for idx in sw.baseline:
        mask[idx] = True
    return mask


def run(ctx: Context) -> Result:
    """Bootstrap uncertainty of every strength value, baseline-calibrated z and drift."""
    opt = check_options(NAME, ctx.options, Options)
    n_boot, ci = int(opt["n_bootstrap"]), float(opt["ci"])
    rng = np.random.default_rng(int(opt["seed"]))
    emotions = [e for e in ctx.emotions if e != "neutral"]
    if not emotions:
        raise InputError("no strength_<emotion> columns: calibration needs emotion prototypes")
    n = int(ctx.config.prototype_frames)
    if n < 2:
        raise InputError("prototype_frames is 1: a one-frame prototype cannot be bootstrapped")
    ds = ctx.prototypes
    proto_names = [str(e) for e in ds["emotion"].values]
    animals_nc = [str(a) for a in ds["animal"].values]
    by_animal: dict[str, list[SessionWindows]] = {}
    for s in ctx.sessions:
        if (ctx.trials["session"] == s).any():
            sw = session_windows(ctx, s, neutral=False)
            by_animal.setdefault(sw.animal, []).append(sw)
    boots: dict[str, dict[str, np.ndarray]] = {}
    unc_rows = []
    for animal, sws in by_animal.items():
        frames = _prototype_frames(ctx, sws, n)
        boots[animal] = {}
        for e in emotions:
            if e not in frames or len(frames[e]) < 2:
                continue
            boots[animal][e] = bootstrap_prototypes(frames[e], n_boot=n_boot, rng=rng)
            stored = ds["animal_prototype"].values[animals_nc.index(animal), proto_names.index(e)]
            unc_rows.append(
                {"animal": animal, "emotion": e, "n_prototype_frames": len(frames[e]),
                 "matches_pipeline": bool(np.allclose(frames[e].mean(0), stored, atol=1e-4))}
            )  # fmt: skip
    pooled = {
        e: np.mean([b[e] for b in boots.values() if e in b], axis=0)
        for e in emotions
        if any(e in b for b in boots.values())
    }
    strength_tables, drift_rows = [], []
    for animal, sws in by_animal.items():
        B = np.stack([boots[animal].get(e, pooled.get(e)) for e in emotions])
        ref = ds["animal_prototype"].values[animals_nc.index(animal), proto_names.index("neutral")]
        cols = [f"strength_{e}" for e in emotions]
        centred, per_session, first = [], [], None
        for sw in sws:
            base = _baseline_mask(sw)
            S = sw.frames[cols].to_numpy(dtype=np.float64)
            med = np.nanmedian(S[base], axis=0)
            centred.append(S[base] - med)
            per_session.append((sw, base, S))
            bh = ctx.hog(sw.session, np.flatnonzero(base))
            dist = neutral_drift(bh, ref, n_boot=n_boot, ci=ci, rng=rng)
            first = bh.mean(axis=0) if first is None else first
            row = {"session": sw.session, "animal": animal, "state": sw.trials["cond"].iloc[0],
                   "neutral_distance": dist[0], "ci_low": dist[1], "ci_high": dist[2],
                   "distance_to_first": 1.0 - float(pearson_rows(bh.mean(0)[None], first)[0]),
                   "n_baseline_frames": int(base.sum())}  # fmt: skip
            for j, e in enumerate(emotions):
                row[f"baseline_median_{e}"] = float(med[j])
                row[f"baseline_sd_{e}"] = robust_sd(S[base, j])
            drift_rows.append(row)
        sd_a = np.array([robust_sd(c) for c in np.concatenate(centred).T])
        sd_a = np.where(sd_a > 0, sd_a, np.nan)
        for sw, base, S in per_session:
            strength_tables.append(_strength_table(ctx, sw, S, base, B, sd_a, emotions, ci))
        for r in unc_rows:
            if r["animal"] == animal:
                j = emotions.index(r["emotion"])
                sd = pd.concat([t[f"strength_{r['emotion']}_sd"] for t in strength_tables
                                if t["animal"].iloc[0] == animal])  # fmt: skip
                r |= {"median_sd": float(sd.median()), "p95_sd": float(sd.quantile(0.95)),
                      "baseline_sd": float(sd_a[j])}  # fmt: skip
    strength = pd.concat(strength_tables, ignore_index=True)
    drift = pd.DataFrame(drift_rows)
    unc = pd.DataFrame(unc_rows)
    summary = {
        "max_neutral_distance": float(drift["neutral_distance"].max()),
        "median_strength_sd": float(unc["median_sd"].median()) if len(unc) else float("nan"),
        "prototypes_match_pipeline": bool(unc["matches_pipeline"].all()) if len(unc) else None,
    }
    notes = []
    if len(unc) and not unc["matches_pipeline"].all():
        notes.append("calibration: some rebuilt prototypes differ from prototypes.nc")
    section = calibration_section(strength, drift, unc, emotions=emotions, opt=opt)
    return Result(
        tables={"strength": strength, "drift": drift, "uncertainty": unc},
        summary=summary,
        section_html=section,
        notes=notes,
    )


def _strength_table(ctx, sw, S, base, B, sd_a, emotions, ci) -> pd.DataFrame:
    """Per-frame strength, its bootstrap SD and interval, and the baseline z of one session."""
    n = len(S)
    sd = np.empty((n, len(emotions)), np.float32)
    lo, hi = np.empty_like(sd), np.empty_like(sd)
    for i in range(0, n, _BLOCK):
        idx = np.arange(i, min(n, i + _BLOCK))
        sd[idx], lo[idx], hi[idx] = strength_uncertainty(ctx.hog(sw.session, idx), B, ci=ci)
    z = baseline_z(S, base, sd_a) if np.isfinite(sd_a).all() else np.full_like(sd, np.nan)
    cols = {"session": sw.session, "animal": sw.animal, "frame": sw.frames["frame"].to_numpy(),
            "time": sw.frames["time"].to_numpy()}  # fmt: skip
    for j, e in enumerate(emotions):
        cols |= {f"strength_{e}": S[:, j].astype(np.float32), f"strength_{e}_sd": sd[:, j],
                 f"strength_{e}_low": lo[:, j], f"strength_{e}_high": hi[:, j],
                 f"z_{e}": z[:, j]}  # fmt: skip
    return pd.DataFrame(cols)
