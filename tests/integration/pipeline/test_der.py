"""The DER tail-shock videos: trigger detection, analyze, and the dose-response check.

The dose-response check is run exactly as ``../shared/tools/README.md`` describes: cut the mosaics
into one session per trial with ``der_tiles.py``, ``mouseface run`` the generated config, then per
mouse the Spearman correlation between ``intensity`` and ``response`` in ``trials.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from typer.testing import CliRunner

from mouseface.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def der_result(der_run: Path) -> Path:
    return der_run


def test_dose_response_per_mouse(der_result: Path):
    trials = pd.read_parquet(der_result / "trials.parquet")
    assert len(trials) == 90 and set(trials["emotion"]) == {"pain"}
    rho = {a: spearmanr(g["intensity"], g["response"])[0] for a, g in trials.groupby("animal")}
    assert len(rho) == 3
    # Measured per mouse: m3_000_M 0.795-0.806, m3_00B_M 0.915-0.918, m5_R00_F 0.817-0.822. The
    # spread comes from der_tiles.py itself: libx264 in PyAV encodes the same tile differently
    # from run to run (md5 differs), which moves baseline_change by up to 3e-3 in some trials.
    # The issue-5 target (>= 0.8 for every mouse) therefore holds only in some runs and the
    # issue-10 target (>= 0.85) not at all: both stay open. What holds in every run, and fails
    # if the dose-response weakens: every mouse >= 0.75, and the mean over mice >= 0.8.
    assert all(r >= 0.75 for r in rho.values()), rho
    assert np.mean(list(rho.values())) >= 0.8, rho


def test_der_outputs_follow_the_contract(der_result: Path):
    for name in (
        "trials.parquet",
        "prototypes.nc",
        "decoding.parquet",
        "provenance.json",
        "report.html",
    ):
        assert (der_result / name).is_file(), name
    frames = pd.read_parquet(der_result / "sessions" / "m3_000_M_r4c0" / "frames.parquet")
    assert len(frames) == 100 and {"time", "change", "strength_pain", "good"} <= set(frames)
    trials = pd.read_parquet(der_result / "trials.parquet")
    need = {
        "session",
        "animal",
        "trial",
        "trial_type",
        "emotion",
        "intensity",
        "onset",
        "response",
        "strength_pain",
        "predicted",
        "valid",
    }
    assert need <= set(trials.columns)
    dec = pd.read_parquet(der_result / "decoding.parquet")
    frame_acc = dec[(dec.metric == "accuracy") & (dec.level == "frame")]
    assert set(frame_acc["held_out"]) == set(trials["animal"])


def test_trial_4_trigger_found_at_3_seconds(der_dir: Path, tmp_path: Path):
    video = der_dir / "trial_4_full.mp4"
    tsv = tmp_path / "t4.tsv"
    res = runner.invoke(
        app,
        [
            "events",
            "from-video",
            str(video),
            "--roi",
            "0,0,10,10",
            "--threshold",
            "200",
            "--label",
            "tail_shock",
            "--out",
            str(tsv),
        ],
    )
    assert res.exit_code == 0, res.output
    ev = pd.read_csv(tsv, sep="\t")
    assert ev["onset"].tolist() == [pytest.approx(3.0, abs=1e-6)]
    res = runner.invoke(
        app, ["analyze", str(video), "--events", str(tsv), "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 0, res.output
    frames = pd.read_parquet(tmp_path / "out" / "sessions" / "trial_4_full" / "frames.parquet")
    before = frames.loc[(frames.time >= 1.0) & (frames.time < 3.0), "change"]
    after = frames.loc[(frames.time >= 3.0) & (frames.time < 5.0), "change"]
    assert after.mean() > 5 * before.mean()
    trial = pd.read_parquet(tmp_path / "out" / "trials.parquet").iloc[0]
    assert trial["response"] > 0.02 and trial["trial_type"] == "tail_shock"


def test_pupil_video_goes_through_analyze(pupil_video: Path, tmp_path: Path):
    tsv = tmp_path / "ev.tsv"
    tsv.write_text("onset\tduration\ttrial_type\n5\t1\tpuff\n15\t1\tpuff\n25\t1\ttone\n")
    res = runner.invoke(
        app,
        [
            "analyze",
            str(pupil_video),
            "--events",
            str(tsv),
            "--out",
            str(tmp_path / "out"),
            "--roi",
            "auto",
        ],
    )
    assert res.exit_code == 0, res.output
    frames = pd.read_parquet(tmp_path / "out" / "sessions" / "sample_video" / "frames.parquet")
    assert len(frames) == 749
    np.testing.assert_allclose(np.diff(frames["time"]), 0.04, atol=1e-6)
    assert frames["change"].notna().all()
    assert {"strength_puff", "strength_tone"} <= set(frames.columns)
