"""Change of meaning, valence/arousal, calibration and prototype libraries on a small synthetic
dataset with a post-pairing session (sucrose after sucrose + LiCl) and known ground truth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from mouseface.analyses import load_context, run_analyses
from mouseface.errors import InputError
from mouseface.io.config import load_config
from mouseface.io.video import VideoReader
from mouseface.io.writer import write_video
from mouseface.library import apply_library, load_library, save_library
from mouseface.pipeline import run_project
from mouseface.synth import generate_dataset

FPS = 8.0
SIZE = (120, 160)
NAMES = ["meaning", "valence", "calibration"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("beyond")
    yaml_path = generate_dataset(root / "ds", n_animals=3, seed=1, fps=FPS, size=SIZE,
                                 trials_per_stimulus=3, pairing=True, faces="cartoon")  # fmt: skip
    cfg = yaml.safe_load(yaml_path.read_text())
    cfg["hog"] = {"face_width": 160}
    cfg["analyses"] = {
        "meaning": {"n_permutations": 2000, "n_bootstrap": 1000},
        "valence": {"n_permutations": 2000, "n_bootstrap": 1000},
        "calibration": {"n_bootstrap": 100},
    }
    (root / "ds" / "run.yaml").write_text(yaml.safe_dump(cfg))
    out = root / "out"
    run_project(load_config(root / "ds" / "run.yaml"), out, analyses=False, report=False)
    results = run_analyses(out, names=NAMES)
    return {"root": root, "out": out, "results": results, "truth": root / "ds" / "truth"}


def test_meaning_detects_pairing_not_the_control(run) -> None:
    res = run["results"]["meaning"]
    assert not res.notes
    eff = res.tables["effects"].set_index(["comparison", "metric"])
    test, control = eff.loc[("test", "share")], eff.loc[("control", "share")]
    assert (test["before"], test["after"]) == ("thirsty+sated", "paired")
    # ground truth: after pairing 65 % of the sucrose face is disgust (action units), before 0 %
    truth = pd.read_parquet(run["truth"] / "trials.parquet")
    assert set(truth.loc[truth["state"] == "paired", "blend_share"]) == {0.65}
    assert test["before_value"] < 0.1 and test["after_value"] > 0.35
    assert test["ci_low"] > 0 and test["p_permutation"] < 0.01
    # r(pleasure) - r(disgust) drops as well
    assert eff.loc[("test", "preference"), "ci_high"] < 0
    # control: thirsty vs sated sucrose (no pairing, 1.5x amplitude difference): no change
    assert (control["before"], control["after"]) == ("thirsty", "sated")
    assert abs(control["value"]) < 0.1 and control["p_permutation"] > 0.05
    trials = res.tables["trials"]
    assert set(trials["state"]) == {"thirsty", "sated", "paired"}
    assert trials.loc[trials["state"] != "paired", "reference"].all()
    classes = res.tables["classes"].groupby(["state", "prototype"])["fraction"].mean()
    assert classes[("paired", "disgust")] > classes[("thirsty", "disgust")] + 0.2
    assert "Change of meaning" in res.section_html and "data:image/png;base64" in res.section_html
    assert (run["out"] / "analyses" / "meaning_effects.parquet").is_file()


def test_meaning_bad_options(run) -> None:
    ctx = load_context(run["out"])
    ctx.options = {"bogus": 1}
    from mouseface.analyses import meaning

    with pytest.raises(InputError, match="unknown option"):
        meaning.run(ctx)
    ctx.options = {"after": "post"}
    with pytest.raises(InputError, match="after"):
        meaning.run(ctx)
    ctx.options = {"stimulus": "water"}
    with pytest.raises(InputError, match="water"):
        meaning.run(ctx)


def test_valence_quadrants(run) -> None:
    res = run["results"]["valence"]
    q = res.tables["quadrants"].set_index("emotion")
    assert q.loc["pleasure", "valence_ci_low"] > 0
    for e in ("pain", "passive_fear", "active_fear", "disgust", "malaise"):
        assert q.loc[e, "valence_ci_high"] < 0, e
    assert abs(q.loc["neutral", "valence"]) < 0.05 and abs(q.loc["neutral", "arousal"]) < 0.05
    c = res.tables["contrasts"].iloc[0]
    assert (c["before"], c["after"]) == ("passive_fear", "active_fear")
    assert c["ci_low"] > 0  # active fear is more aroused than passive fear
    frames = res.tables["frames"]
    n_frames = sum(len(pd.read_parquet(p)) for p in run["truth"].glob("m*_s*.parquet"))
    assert len(frames) == n_frames and frames[["valence", "arousal"]].notna().all().all()
    traj = res.tables["trajectories"]
    assert set(traj["emotion"]) == set(q.index) - {"neutral"}
    assert res.summary["valence_sign_correct"] == res.summary["valence_sign_checked"] == 6


def test_calibration_uncertainty_and_drift(run) -> None:
    res = run["results"]["calibration"]
    s = res.tables["strength"]
    emotions = load_context(run["out"]).emotions
    for e in emotions:
        sd = s[f"strength_{e}_sd"]
        assert sd.notna().all() and (sd >= 0).all() and sd.median() > 0
        assert (s[f"strength_{e}_low"] <= s[f"strength_{e}_high"]).all()
        assert s[f"z_{e}"].notna().all()
    drift = res.tables["drift"]
    assert len(drift) == 9 and (drift["ci_low"] <= drift["ci_high"]).all()
    assert (drift["neutral_distance"] >= 0).all()
    unc = res.tables["uncertainty"]
    assert unc["matches_pipeline"].all() and len(unc) == 3 * len(emotions)


def test_library_applies_to_a_held_out_animal(run, tmp_path: Path) -> None:
    lib = load_library(save_library(run["out"], tmp_path / "lib.nc"))
    assert lib.animals == ("m1", "m2", "m3")
    other = generate_dataset(tmp_path / "other", n_animals=1, seed=11, fps=FPS, size=SIZE,
                             trials_per_stimulus=3, states=("sated",), faces="cartoon")  # fmt: skip
    s = yaml.safe_load(other.read_text())["sessions"][0]
    x, y, w, h = s["roi"]
    shift = (3.0, -2.0)
    M = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), 2.0, 1.0)
    M[:, 2] += shift

    def warped():
        for chunk in VideoReader(other.parent / s["video"], chunk_size=64).chunks(warn=False):
            for f in chunk.frames:
                yield cv2.warpAffine(f, M, (SIZE[1], SIZE[0]), borderMode=cv2.BORDER_REPLICATE)

    video = write_video(tmp_path / "moved.mp4", warped(), fps=FPS, crf=20)
    roi = (min(x + 3, SIZE[1] - w), max(y - 2, 0), w, h)
    res = apply_library(lib, video, other.parent / s["events"], tmp_path / "applied", roi=roi,
                        fps=FPS)  # fmt: skip
    assert res.transform.score > 0.6
    truth = pd.read_parquet(other.parent / "truth" / f"{s['id']}.parquet")
    strong = truth["amplitude"].to_numpy() >= 0.3
    hit = res.frames["predicted"].to_numpy()[strong] == truth["emotion"].to_numpy()[strong]
    per_class = pd.Series(hit).groupby(truth["emotion"].to_numpy()[strong]).mean()
    assert len(per_class) == 6
    assert per_class.mean() > 0.6  # chance: 1/6
    assert (res.trials["predicted"] == res.trials["emotion"]).mean() >= 0.6
    assert np.isfinite(res.frames.filter(like="strength_").to_numpy()).all()


def test_library_and_stats_commands(run, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mouseface.cli import app

    cli = CliRunner()
    res = cli.invoke(app, ["library", "save", str(run["out"]), str(tmp_path / "lib.nc")])
    assert res.exit_code == 0, res.output
    assert load_library(tmp_path / "lib.nc").animals == ("m1", "m2", "m3")
    s = yaml.safe_load((run["root"] / "ds" / "mouseface.yaml").read_text())["sessions"][0]
    video = run["root"] / "ds" / s["video"]
    res = cli.invoke(
        app,
        [
            "library",
            "apply",
            str(tmp_path / "lib.nc"),
            str(video),
            "--events",
            str(run["root"] / "ds" / s["events"]),
            "--roi",
            ",".join(map(str, s["roi"])),
            "--out",
            str(tmp_path / "ap"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "registered onto" in res.output and (tmp_path / "ap" / "frames.parquet").is_file()
    res = cli.invoke(app, ["library", "apply", str(tmp_path / "missing.nc"), str(video)])
    assert res.exit_code == 2 and "library file not found" in res.output
    res = cli.invoke(app, ["stats", str(run["out"]), "--only", "valence"])
    assert res.exit_code == 0, res.output
    assert (run["out"] / "analyses" / "valence.section.html").is_file()
    assert (run["out"] / "report.html").is_file()
    res = cli.invoke(app, ["stats", str(run["out"]), "--only", "valance"])
    assert res.exit_code == 2 and "unknown analysis valance" in res.output


def test_stats_only_keeps_other_summaries(run) -> None:
    import json

    before = json.loads((run["out"] / "analyses" / "summary.json").read_text())
    run_analyses(run["out"], names=["valence"])
    after = json.loads((run["out"] / "analyses" / "summary.json").read_text())
    assert set(before) <= set(after) and "valence" in after
