"""A project with an imaging session and an optogenetics session, run end to end by the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mouseface.cli import app
from mouseface.synth import generate_dataset

SIZE = (64, 96)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("neural_opto")
    generate_dataset(
        root,
        n_animals=1,
        trials_per_stimulus=2,
        size=SIZE,
        fps=5,
        states=("thirsty",),
        licl_tail=10.0,
        faces="cartoon",  # the wiring is tested here; real faces in the demo
        neural=True,
        opto=True,
    )
    # HOG alone: on this 64x96 cartoon (the face resized 3.3x to 320 px) the strength traces
    # follow the dense cell flow at its default weight, and 7 of the 24 tuned neurons were found
    # (16 with HOG alone); the wiring is what this test checks, the demo measures power
    cfg = yaml.safe_load((root / "mouseface.yaml").read_text())
    (root / "mouseface.yaml").write_text(yaml.safe_dump({**cfg, "features": ["hog"]}))
    res = CliRunner().invoke(app, ["run", str(root / "mouseface.yaml"), "--out", str(root / "out")])
    assert res.exit_code == 0, res.output
    return root


def test_neurons_table_and_report(project: Path) -> None:
    out = project / "out"
    neurons = pd.read_parquet(out / "neurons.parquet")
    assert {"session", "neuron", "plane", "emotion", "r", "p", "q", "significant"} <= set(
        neurons.columns
    )
    assert neurons["session"].unique().tolist() == ["m1_s1"]
    truth = pd.read_parquet(project / "truth" / "neurons_m1_s1.parquet")
    assert len(neurons.groupby(["plane", "neuron"])) == int(truth["iscell"].sum())
    true_tuned = {
        (int(r.plane), int(r.neuron), r.emotion) for r in truth.itertuples() if r.role == "tuned"
    }
    found = {
        (int(r.plane), int(r.neuron), r.emotion) for r in neurons[neurons["tuned"]].itertuples()
    }
    hits = len(found & true_tuned)
    assert hits >= len(true_tuned) // 3  # a 1-animal, 5-fps toy: the demo measures power
    assert len(found - true_tuned) <= max(1, len(found) // 4)
    assert neurons["q"].between(0, 1).all() and (neurons["q"] >= neurons["p"] - 1e-12).all()
    html = (out / "report.html").read_text()
    assert 'id="neurons"' in html and 'id="opto"' in html


def test_opto_session_is_not_an_emotion_session(project: Path) -> None:
    out = project / "out"
    trials = pd.read_parquet(out / "trials.parquet")
    assert "m1_opto" not in set(trials["session"])  # laser epochs are no emotion trials
    frames = pd.read_parquet(out / "sessions" / "m1_opto" / "frames.parquet")
    assert any(c.startswith("strength_") for c in frames.columns)
    opto = pd.read_parquet(out / "opto.parquet")
    truth = pd.concat(pd.read_parquet(p) for p in (project / "truth").glob("opto_m1_opto.parquet"))
    evoked = truth[~truth["sham"]].groupby("target")["emotion"].first()
    main = opto[opto["condition"] == "laser_vs_baseline"].set_index("target")
    for target, emotion in evoked.items():
        assert main.loc[target, "evoked_emotion"] == emotion
    assert pd.read_parquet(out / "opto_locked.parquet")["target"].nunique() >= 2


def test_missing_neural_folder_is_bad_input(project: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((project / "mouseface.yaml").read_text())
    for s in cfg["sessions"]:
        if "neural" in s:
            s["neural"] = {"path": "neural/nowhere/suite2p", "format": "suite2p"}
    bad = project / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = CliRunner().invoke(app, ["run", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "nowhere" in res.output


def test_export_nwb_command(project: Path, tmp_path: Path) -> None:
    from pynwb import NWBHDF5IO

    res = CliRunner().invoke(
        app,
        ["export", "nwb", str(project / "out"), "-s", "m1_s1", "--dest", str(tmp_path)],
    )
    assert res.exit_code == 0, res.output
    path = tmp_path / "m1_s1.nwb"
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        frames = pd.read_parquet(project / "out" / "sessions" / "m1_s1" / "frames.parquet")
        change = nwb.processing["behavior"]["change"].data[:]
        assert len(change) == len(frames)
        assert "neurons" in nwb.analysis
    bad = CliRunner().invoke(app, ["export", "nwb", str(project / "out"), "-s", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output
