"""Synthetic ground truth through the neural and opto statistics.

Imaging: the synthetic generator's session timelines -> simulated suite2p folder (2 planes, raw F
+ neuropil, drifting clock + sync table) -> read, dF/F, clock fit, neuron statistics; the tuned
neurons must be found with false discovery <= 10 % and power >= 80 %. The face traces are the
ground-truth stand-in of :func:`mouseface.synth.neural.face_frames` (no video is rendered).
Opto: laser sessions whose targets evoke a chosen emotion at 3 powers plus sham epochs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.neural import (
    analyse_neurons,
    check_overlap,
    example_neurons,
    heatmap_order,
    neurons_table,
    prepare_recording,
    read_neural,
    recording_dff,
    to_video_clock,
)
from mouseface.neural.laser import read_laser_table
from mouseface.neural.opto import opto_table
from mouseface.synth._schedule import animal_emotion_gain, plan_animal
from mouseface.synth._timeline import session_timeline
from mouseface.synth.anatomy import random_anatomy
from mouseface.synth.neural import face_frames, simulate_imaging, write_imaging
from mouseface.synth.opto import opto_gain, opto_truth, plan_opto

FPS = 20.0


def _session(seed: int):
    rng = np.random.default_rng(seed)
    anatomy = random_anatomy(rng, name=f"m{seed}")
    gain = animal_emotion_gain(rng)
    plan = plan_animal(
        f"m{seed}", states=("thirsty",), trials_per_stimulus=3, emotion_gain=gain, rng=rng
    )[0]
    truth = session_timeline(plan, anatomy, fps=FPS, k=1.0, rng=rng).truth()
    return plan, truth


@pytest.fixture(scope="module")
def imaging_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("neural")
    results = []
    for seed in (0, 1):
        plan, truth = _session(seed)
        im = simulate_imaging(truth, plan.trials, n_neurons=60, seed=100 + seed)
        paths = write_imaging(out, plan.id, im)
        frames = face_frames(truth, seed=seed)
        if seed == 0:
            rec = recording_dff(read_neural(paths["suite2p"]))
            rec, fit = to_video_clock(rec, sync=paths["sync"])
            check_overlap(rec.times, frames["time"].to_numpy(), source=str(paths["suite2p"]))
        else:  # the one-call path the pipeline uses
            prep = prepare_recording(
                paths["suite2p"], sync=paths["sync"], video_times=frames["time"].to_numpy()
            )
            rec, fit = prep.recording, prep.clock
            info = prep.provenance()
            assert info["dff_computed"] and info["planes"] == [0, 1]
            assert info["clock"]["method"] == "sync" and info["overlap_s"] > 200
        trials = plan.trials.copy()
        table = neurons_table(rec, frames, trials, session=plan.id)
        results.append((plan, truth, im, rec, fit, frames, trials, table, paths))
    return results


def test_clock_and_reader_on_synthetic(imaging_results):
    for _, _, im, rec, fit, *_ in imaging_results:
        assert fit.slope - 1 == pytest.approx(1e-4, abs=1e-5)
        assert fit.residual_rms < 2e-3
        assert np.max(np.abs(rec.times - im.video_time)) < 2e-3  # vs the true video times
        assert rec.n_neurons == int(im.iscell.sum()) and set(rec.plane) == {0, 1}


def test_tuned_neurons_found_with_fdr_and_power(imaging_results):
    tables = []
    for _, _, im, _, _, _, _, table, _ in imaging_results:
        truth = im.truth[im.truth["iscell"]]
        m = table.merge(truth, on=["plane", "neuron"], suffixes=("", "_true"))
        assert len(m) == len(table)
        m["is_true"] = (m["role"] == "tuned") & (m["emotion"] == m["emotion_true"])
        tables.append(m)
    m = pd.concat(tables)
    found = m["tuned"]
    fdp = (found & ~m["is_true"]).sum() / max(found.sum(), 1)
    power = (found & m["is_true"]).sum() / m["is_true"].sum()
    assert m["is_true"].sum() == 48
    assert fdp <= 0.10, f"false discovery proportion {fdp:.3f}"
    assert power >= 0.80, f"power {power:.3f}"
    # onset-only neurons correlate with every strength but are not called tuned
    onset = m[m["role"] == "onset"]
    assert onset["significant"].any() and not onset["tuned"].any()
    table = imaging_results[0][7]
    order = heatmap_order(table)
    assert len(order) == table[["plane", "neuron"]].drop_duplicates().shape[0]
    groups = order["preferred_emotion"].tolist()
    assert groups == sorted(groups, key=list(dict.fromkeys(table["emotion"])).index)
    ex = example_neurons(table)
    assert ex["tuned"].all() and ex["emotion"].is_unique


def test_session_bundle(imaging_results):
    plan, _, im, rec, _, frames, trials, _, _ = imaging_results[0]
    trials = trials.assign(predicted=trials["emotion"])
    res = analyse_neurons(
        rec, frames, trials, session=plan.id, n_shuffles=200, n_boot=100, n_permutations=10
    )
    assert res.decoding is not None and res.decoding.balanced_accuracy > 0.6
    assert res.decoding.balanced_accuracy > res.decoding.chance_high
    decoded = res.trials["neural_predicted"].notna()
    assert res.agreement is not None and res.agreement.n_trials == int(decoded.sum())
    assert not decoded[res.trials["emotion"] == "malaise"].any()  # one trial: not decodable
    assert res.psth.mean.shape == (len(res.psth.emotions), rec.n_neurons, len(res.psth.lags))
    assert "neural_predicted" in res.trials.columns


def test_opto_evoked_emotion_and_dose(tmp_path):

    for seed, targets in ((0, {"site_a": "pleasure", "site_b": "pain"}),
                          (1, {"site_c": "disgust", "site_d": "active_fear"})):  # fmt: skip
        rng = np.random.default_rng(seed)
        anatomy = random_anatomy(rng, name=f"m{seed}")
        plan, laser = plan_opto(f"m{seed}", targets=targets, rng=rng)
        path = tmp_path / f"{plan.id}_laser.tsv"
        laser.to_csv(path, sep="\t", index=False)
        truth = opto_truth(plan, anatomy, fps=FPS, rng=rng)
        frames = face_frames(truth, seed=seed)
        tab = opto_table(frames, read_laser_table(path), session=plan.id, n_boot=500)
        base = tab[tab["condition"] == "laser_vs_baseline"].set_index("target")
        for target, emotion in targets.items():
            assert base.loc[target, "evoked_emotion"] == emotion
            assert base.loc[target, "ci_low"] > 0
        dose = tab[tab["condition"] == "dose_power"].set_index("target")
        assert set(dose.index) == set(targets) and (dose["effect"] > 0).all()
        sham = tab[tab["condition"] == "sham_vs_baseline"].iloc[0]
        assert sham["p"] > 0.05

    assert np.all(np.diff(opto_gain([0.0, 2.0, 5.0, 10.0])) > 0)


def test_dataset_with_imaging_and_opto(tmp_path):
    from mouseface.io.events import read_events
    from mouseface.synth import generate_dataset

    generate_dataset(
        tmp_path,
        n_animals=1,
        trials_per_stimulus=1,
        size=(64, 96),
        fps=5,
        states=("thirsty",),
        licl_tail=10.0,
        faces="cartoon",
        neural=True,
        opto=True,
    )
    import yaml

    cfg = yaml.safe_load((tmp_path / "mouseface.yaml").read_text())
    by_id = {s["id"]: s for s in cfg["sessions"]}
    assert set(by_id) == {"m1_s1", "m1_opto"}
    neural = by_id["m1_s1"]["neural"]
    rec = read_neural(tmp_path / neural["path"], format="suite2p")
    rec, fit = to_video_clock(rec, sync=tmp_path / neural["sync"])
    assert rec.n_neurons > 0 and fit.n_pulses > 40
    truth_trials = pd.read_parquet(tmp_path / "truth" / "trials.parquet")
    assert set(truth_trials["session"]) == {"m1_s1"}  # laser epochs are no emotion trials
    opto = by_id["m1_opto"]
    assert "events" not in opto and opto["roi"] == by_id["m1_s1"]["roi"]
    laser = read_laser_table(tmp_path / opto["opto"])
    events = read_events(tmp_path / "events" / "m1_opto.tsv")
    assert len(laser) == len(events) and laser["sham"].sum() == 4
    np.testing.assert_allclose(np.sort(events["onset"]), laser["onset"])
    truth = pd.read_parquet(tmp_path / "truth" / "m1_opto.parquet")
    epochs = pd.read_parquet(tmp_path / "truth" / "opto_m1_opto.parquet")
    assert (epochs.loc[epochs["sham"], "amplitude"] == 0).all()
    assert (epochs.loc[~epochs["sham"], "amplitude"] > 0).all()
    assert truth["time"].iloc[-1] > laser["onset"].max() + laser["duration"].max()
