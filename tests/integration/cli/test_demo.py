"""`mouseface demo` and `mouseface synth` as a new user runs them."""

from __future__ import annotations

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
    m = re.search(r"leave-one-animal-out frame accuracy \(prototype decoder\): ([0-9.]+)", text)
    assert m, text
    assert float(m.group(1)) > 3 / 7  # seven classes: chance is 1/7
    m = re.search(r"frame balanced accuracy, 7 classes, changed faces .*?: ([0-9.]+) \[", text)
    assert m, text
    assert float(m.group(1)) > 0.8
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


def test_synth_writes_a_runnable_project(tmp_path: Path):
    res = runner.invoke(app, ["synth", str(tmp_path / "ds"), "--animals", "2", "--trials", "1"])
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load((tmp_path / "ds" / "mouseface.yaml").read_text())
    assert len({s["animal"] for s in cfg["sessions"]}) == 2
    for s in cfg["sessions"]:
        assert (tmp_path / "ds" / s["video"]).is_file()
        assert (tmp_path / "ds" / s["events"]).is_file()
    assert (tmp_path / "ds" / "truth" / "trials.parquet").is_file()
