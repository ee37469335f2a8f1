"""Intensity, state and time-course analyses end to end: on a small synthetic dataset with known
ground truth, and on the real DER tail-shock videos (strong shock vs none on unseen mice)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mouseface.analyses import intensity as intensity_mod
from mouseface.analyses import load_context, run_analyses
from mouseface.analyses import state as state_mod
from mouseface.analyses import timecourse as timecourse_mod
from mouseface.errors import InputError
from mouseface.io.config import load_config
from mouseface.pipeline import run_project
from mouseface.synth import generate_dataset
from mouseface.synth.profiles import PROFILES, state_gain

NAMES = ["intensity", "state", "timecourse"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[Path, Path, dict]:
    """3 animals x (thirsty, sated), 2 trials per stimulus, 120x160 px at 10 fps."""
    root = tmp_path_factory.mktemp("effects")
    yaml = generate_dataset(
        root / "data",
        n_animals=3,
        trials_per_stimulus=2,
        size=(120, 160),
        fps=10.0,
        faces="cartoon",  # the analyses' arithmetic against the cartoon's known effects
    )
    out = root / "out"
    run_project(load_config(yaml), out, analyses=False, report=False)
    results = run_analyses(out, names=NAMES)
    return root / "data", out, results


def test_tables_sections_and_summary_are_written(synthetic):
    _, out, results = synthetic
    folder = out / "analyses"
    for name, tables in {
        "intensity": ["spearman", "mixed", "levels"],
        "state": ["effects", "animals"],
        "timecourse": ["params", "curves"],
    }.items():
        assert results[name].tables, results[name].notes  # ran (not skipped by the runner)
        for t in tables:
            df = pd.read_parquet(folder / f"{name}_{t}.parquet")
            assert len(df) > 0
        html = (folder / f"{name}.section.html").read_text()
        assert html.startswith("<section") and "data:image/png;base64," in html
        assert "[" in html  # numbers are stated with intervals
    summary = json.loads((folder / "summary.json").read_text(), parse_constant=_no_constant)
    assert {"intensity", "state", "timecourse"} <= set(summary)


def _no_constant(name: str):
    raise AssertionError(f"summary.json holds {name}, which is not JSON")


def test_state_recovers_the_thirsty_over_sated_gain(synthetic):
    data, _, results = synthetic
    eff = results["state"].tables["effects"]
    row = eff[(eff["emotion"] == "pleasure") & eff["primary"]].iloc[0]
    assert row["readout"] == "amplitude" and row["n_animals"] == 3
    truth = state_gain("pleasure", "thirsty") / state_gain("pleasure", "sated")  # 1.5
    assert row["ratio"] == pytest.approx(truth, rel=0.2)
    assert row["ratio_low"] > 1.0 and row["diff_low"] > 0  # right sign, interval excludes 0
    # the realised amplitudes of these trials (generator noise included), balanced by intensity
    tr = pd.read_parquet(data / "truth" / "trials.parquet")
    tr = tr[tr["emotion"] == "pleasure"]
    cell = tr.groupby(["animal", "intensity", "state"])["amplitude"].mean().unstack("state")
    per = cell.groupby("animal").mean()
    assert row["ratio"] == pytest.approx(per["thirsty"].mean() / per["sated"].mean(), rel=0.2)
    # malaise does not depend on state in the generator: its interval holds 1
    mal = eff[(eff["emotion"] == "malaise") & eff["primary"]].iloc[0]
    assert mal["ratio_low"] < 1.0 < mal["ratio_high"]


def test_timecourse_malaise_persists_and_pain_is_brief(synthetic):
    _, _, results = synthetic
    p = results["timecourse"].tables["params"]
    fit = p[(p["source"] == "fit") & (p["parameter"] == "decay")].set_index("emotion")
    pain = fit.loc["pain"]
    assert pain["value"] == pytest.approx(PROFILES["pain"].decay, rel=0.35)
    assert bool(pain["decay_resolved"]) and pain["ci_high"] < 5.0
    malaise = fit.loc["malaise"]
    assert malaise["ci_low"] > 30.0  # minutes, not seconds
    # 90 s of video after LiCl show less than one time constant: said, with the interval
    assert not bool(malaise["decay_resolved"])
    note = next(n for n in results["timecourse"].notes if n.startswith("malaise"))
    assert "extrapolated" in note and f"{malaise['ci_low']:.3g}" in note
    # the default direction is each animal's face over the last second before each trial's peak
    assert set(fit["direction"]) == {"peak"}
    span = fit["direction_end"] - fit["direction_start"]
    assert np.allclose(span, 1.0) and (fit["direction_start"] >= 0).all()
    peak_time = p[(p["source"] == "fit") & (p["parameter"] == "peak_time")].set_index("emotion")
    assert fit.loc["malaise", "direction_end"] == pytest.approx(
        peak_time.loc["malaise", "value"], abs=0.5
    )
    lat = p[(p["source"] == "fit") & (p["parameter"] == "latency")].set_index("emotion")
    assert lat.loc["pain", "value"] < 0.3


def test_intensity_dose_response_on_synthetic(synthetic):
    _, _, results = synthetic
    res = results["intensity"]
    sp = res.tables["spearman"]
    pooled = sp[(sp["trial_type"] == "sucrose") & (sp["animal"] == "all")].set_index("readout")
    assert pooled.loc["response", "rho"] > 0.5 and pooled.loc["amplitude", "rho"] > 0.5
    mixed = res.tables["mixed"].set_index(["trial_type", "readout"])
    assert mixed.loc[("sucrose", "amplitude"), "ci_low"] > 0
    assert bool(mixed.loc[("sucrose", "amplitude"), "state_covariate"])
    # no trial without a stimulus in the synthetic paradigm: the decoder says so
    assert any("intensity <= 0" in n for n in res.notes) and "decoder" not in res.tables


def test_bad_input_is_a_clear_message(synthetic):
    _, out, _ = synthetic
    ctx = load_context(out)
    one = ctx.trials[(ctx.trials["state"] != "sated") | (ctx.trials["animal"] == "m1")]
    ctx.__dict__["trials"] = one  # the sated state now has one animal
    with pytest.raises(InputError, match="state 'sated' has trials of only 1 animal"):
        state_mod.run(ctx)
    ctx = load_context(out)
    ctx.options = {"readuot": "amplitude"}
    with pytest.raises(InputError, match="did you mean 'readout'"):
        state_mod.run(ctx)
    ctx.options = {"states": ["thirsty"]}
    with pytest.raises(InputError, match="at least 2 states"):
        state_mod.run(ctx)
    ctx.options = {"trial_types": ["licl"]}
    with pytest.raises(InputError, match="fewer than 2 intensities"):
        intensity_mod.run(ctx)
    ctx.options = {"emotions": ["nothing"]}
    with pytest.raises(InputError, match="no trial"):
        timecourse_mod.run(ctx)


@pytest.fixture(scope="module")
def der_out(der_run: Path) -> Path:
    return der_run


def test_der_strong_shock_vs_none_on_unseen_mice(der_out: Path):
    ctx = load_context(der_out)
    ctx.options = {"n_boot": 500}
    res = intensity_mod.run(ctx)
    dec = res.tables["decoder"]
    auc = dec[dec["metric"] == "auc"].set_index("held_out")
    assert set(auc.index) == {*set(ctx.trials["animal"]), "all"}
    assert (auc["value"] >= 0.9).all(), auc
    assert auc.loc["all", "strong_min"] == 300.0 and auc.loc["all", "n_none"] == 18
    sp = res.tables["spearman"]
    per = sp[(sp["readout"] == "response") & (sp["animal"] != "all")]
    # per-mouse rho moves by ~0.01 between runs (der_tiles.py's encoding is not deterministic;
    # see tests/integration/pipeline/test_der.py): >= 0.75 each and >= 0.8 on average always hold
    assert len(per) == 3 and (per["rho"] >= 0.75).all() and per["rho"].mean() >= 0.8
    assert (per["ci_low"] <= per["rho"]).all() and (per["rho"] <= per["ci_high"]).all()
    mixed = res.tables["mixed"].set_index("readout")
    assert mixed.loc["response", "ci_low"] > 0
    # the state analysis has nothing to compare here and says why
    notes = run_analyses(der_out, names=["state"])["state"].notes
    assert notes and "no internal states" in notes[0]
    assert np.isfinite(res.summary["shock.auc"])
