"""Keypoints from the synthetic pose files through the whole run: beside HOG and alone, and a pose
file that does not fit its video (exit 2, earlier outputs intact)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from mouseface.cli import app
from mouseface.errors import InputError
from mouseface.features.keypoints import KEYPOINT_NAMES
from mouseface.io.config import load_config
from mouseface.io.feature_store import open_features, open_store
from mouseface.io.pose import read_pose, write_pose_dlc
from mouseface.pipeline.run import validate_stage
from mouseface.pipeline.session import extract_session
from mouseface.synth import generate_dataset

pytest.importorskip("movement")

N_KP = 9  # features of all five keypoint groups


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cartoon faces, 2 animals x 2 states = 4 sessions of about 250 frames (5 fps)."""
    root = tmp_path_factory.mktemp("kp")
    yaml = generate_dataset(
        root / "data", n_animals=2, seed=2, fps=5.0, size=(96, 128), trials_per_stimulus=1,
        licl_tail=10.0, faces="cartoon",
    )  # fmt: skip
    with yaml.open("a") as fh:
        fh.write("hog: {face_width: 64, pixels_per_cell: [16, 16]}\n")
        fh.write("chunk_size: 64\ndecoders: [prototype]\n")
    return yaml


def _with_features(data: Path, folder: Path, features: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = data.read_text()
    for sub in ("videos/", "events/", "pose/"):
        text = text.replace(sub, f"{data.parent}/{sub}")
    path = folder / "mouseface.yaml"
    path.write_text(text + f"features: {features}\n")
    return path


def _run(config: Path, out: Path):
    return CliRunner().invoke(
        app, ["run", str(config), "--out", str(out), "--no-analyses", "--no-report"]
    )


def _check_run(out: Path, sets: list[str]) -> int:
    """Store, prototypes and per-frame predictions of a finished run; the feature length."""
    sessions = sorted(p for p in (out / "sessions").iterdir())
    assert len(sessions) == 4
    d = None
    for s in sessions:
        g = open_store(s / "features.zarr")
        assert g.attrs["feature_sets"] == sets
        n = g["time"].shape[0]
        assert g["keypoints"].shape == (n, N_KP)
        assert np.isfinite(g["keypoints"][:]).all()
        assert g.attrs["keypoints"]["pose_file"].endswith(f"pose/{s.name}.h5")
        d = open_features(g).shape[1]
        frames = pd.read_parquet(s / "frames.parquet")
        assert len(frames) == n
        assert frames["predicted"].notna().mean() > 0.9
        assert frames["change"].notna().all()
    with xr.open_dataset(out / "prototypes.nc") as ds:
        assert ds["prototype"].shape[-1] == d
        assert ds.attrs["feature_sets"] == ",".join(sets)
    trials = pd.read_parquet(out / "trials.parquet")
    assert trials["predicted"].notna().any()
    return d


def test_hog_and_keypoints_then_a_short_pose_file_is_exit_2(data: Path, tmp_path: Path):
    config = _with_features(data, tmp_path / "both", "[hog, keypoints]")
    out = tmp_path / "out"
    res = _run(config, out)
    assert res.exit_code == 0, res.output
    d = _check_run(out, ["hog", "keypoints"])
    hog_d = open_store(next((out / "sessions").iterdir()) / "features.zarr")["hog"].shape[1]
    assert d == hog_d + N_KP
    prov = (out / "provenance.json").read_text()
    assert "pose" in prov and ".h5" in prov

    # a pose file with fewer frames than its video: exit 2 before anything is written
    cfg = load_config(config)
    victim = cfg.sessions[1]
    pose = read_pose(victim.pose.path, confidence_threshold=None, max_gap=0)
    short = tmp_path / "short.h5"
    write_pose_dlc(short, pose.values[:-10], KEYPOINT_NAMES, fps=5.0)
    bad = config.parent / "bad.yaml"
    bad.write_text(config.read_text().replace(str(victim.pose.path), str(short)))
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
    res = _run(bad, out)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    n = len(pose.time)
    assert f"short.h5: the pose file has {n - 10} frames but the video has {n}" in text
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
    assert after == before

    # found only while extracting (a container that announces no frame count): the store being
    # written is dropped, the earlier one stays as it was
    cfg_bad = load_config(bad)
    inputs = validate_stage(cfg, strict_emotions=True)
    s = replace(next(x for x in inputs if x.id == victim.id), cfg=cfg_bad.sessions[1])
    with pytest.raises(InputError, match=rf"short\.h5: the pose file has {n - 10} frames"):
        extract_session(s, cfg_bad, out, resume=False)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_keypoints_alone(data: Path, tmp_path: Path):
    config = _with_features(data, tmp_path / "kp", "[keypoints]")
    out = tmp_path / "out"
    res = _run(config, out)
    assert res.exit_code == 0, res.output
    assert _check_run(out, ["keypoints"]) == N_KP
    sid = sorted(p.name for p in (out / "sessions").iterdir())[0]
    assert "hog" not in open_store(out / "sessions" / sid / "features.zarr")
    # the overlay video draws HOG glyphs: without a stored hog it computes them
    res = CliRunner().invoke(
        app, ["overlay", str(out), "--session", sid, "--start", "0", "--end", "2"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "sessions" / sid / "overlay.mp4").stat().st_size > 0
