"""`mouseface demo` and `mouseface synth` as a new user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from mouseface.cli import app

runner = CliRunner()


def test_demo_runs_everything_and_decodes_unseen_animals(tmp_path: Path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path), "--animals", "3"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    # the honest headline comes first: every frame chosen by the truth, named out of fold
    assert res.output.lstrip().startswith("Emotion of every frame"), res.output
    m = re.search(
        r"all classes: ([0-9.]+) \[([0-9.]+), ([0-9.]+)\] balanced accuracy .*?chance "
        r"([0-9.]+), p = ([0-9.e-]+)\) over ([0-9]+) frames of 3 animals: frames chosen by the "
        r"ground truth",
        text,
    )
    assert m, text
    ba, lo, hi, chance, p = (float(m.group(i)) for i in range(1, 6))
    assert lo <= ba <= hi and ba > 3 / 7 and chance < 0.2 and p < 0.01
    m = re.search(r"above the gate only: ([0-9.]+) \[", text)
    assert m, text
    # frames above the gate (2 robust z) only: a selection by the decoder's own gate, reported
    # second; well above chance (1/7)
    assert float(m.group(1)) > 0.6
    report = tmp_path / "results" / "report.html"
    assert report.is_file() and "report.html" in text
    trials = pd.read_parquet(tmp_path / "results" / "trials.parquet")
    assert set(trials["emotion"]) == {
        "pleasure",
        "disgust",
        "malaise",
        "pain",
        "passive_fear",
        "active_fear",
    }
    assert trials["animal"].nunique() == 3
    dec = pd.read_parquet(tmp_path / "results" / "decoding.parquet")
    assert "neutral" in set(dec["true"].dropna())
    # neurons and light: one imaging and one optogenetics session per animal
    neurons = pd.read_parquet(tmp_path / "results" / "neurons.parquet")
    assert neurons["session"].nunique() == 3 and neurons["tuned"].any()
    opto = pd.read_parquet(tmp_path / "results" / "opto.parquet")
    assert set(opto["session"]) == {"m1_opto", "m2_opto", "m3_opto"}
    assert "neurons:" in text and "optogenetics, evoked emotion" in text
    # issue 11: tuned neurons found with false discovery <= 10 % and power >= 80 %
    m = re.search(r"vs the generator's truth: false discovery ([0-9.]+)%, power ([0-9.]+)%", text)
    assert m, text
    assert float(m.group(1)) <= 10.0 and float(m.group(2)) >= 80.0
    # anyone can score the run again: same frames, same number; trials beside them
    res2 = runner.invoke(
        app, ["score", str(tmp_path / "results"), "--json", str(tmp_path / "score.json")]
    )
    assert res2.exit_code == 0, res2.output
    blob = json.loads((tmp_path / "score.json").read_text())
    assert abs(blob["frames"]["balanced_accuracy"] - ba) < 5e-4
    assert blob["trials"]["unit"] == "trials" and blob["trials"]["n_frames"] == len(
        trials[trials["emotion"].notna()]
    )
    assert 0 <= blob["trials"]["ci_low"] <= blob["trials"]["balanced_accuracy"] <= 1


def test_synth_writes_a_runnable_project(tmp_path: Path):
    res = runner.invoke(app, ["synth", str(tmp_path / "ds"), "--animals", "2", "--trials", "1"])
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load((tmp_path / "ds" / "mouseface.yaml").read_text())
    assert len({s["animal"] for s in cfg["sessions"]}) == 2
    for s in cfg["sessions"]:
        assert (tmp_path / "ds" / s["video"]).is_file()
        assert (tmp_path / "ds" / s["events"]).is_file()
    assert (tmp_path / "ds" / "truth" / "trials.parquet").is_file()
