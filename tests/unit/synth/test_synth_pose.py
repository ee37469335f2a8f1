"""Synthetic pose files: landmarks of cartoon and real faces as DeepLabCut keypoints with noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mouseface.features.keypoints import KEYPOINT_NAMES, keypoint_features
from mouseface.io.config import load_config
from mouseface.io.pose import read_pose
from mouseface.synth import generate_dataset
from mouseface.synth.pose import write_synthetic_pose

pytest.importorskip("movement")

TINY = {
    "n_animals": 1,
    "seed": 4,
    "fps": 5.0,
    "size": (96, 128),
    "trials_per_stimulus": 1,
    "states": (),
    "licl_tail": 10.0,
}


@pytest.fixture(scope="module", params=["cartoon", "real"])
def dataset(request, tmp_path_factory) -> Path:
    return generate_dataset(tmp_path_factory.mktemp(request.param), faces=request.param, **TINY)


def test_every_session_names_its_pose_file(dataset: Path) -> None:
    cfg = yaml.safe_load(dataset.read_text())
    assert "features" not in cfg  # the default (hog) stays: pose files change no run
    for s in cfg["sessions"]:
        assert s["pose"] == f"pose/{s['id']}.h5"
    loaded = load_config(dataset)
    assert all(s.pose is not None and s.pose.path.is_file() for s in loaded.sessions)


def test_keypoints_follow_the_faces_action_units(dataset: Path) -> None:
    """Eye opening falls with orbital tightening and blinks, the ear angle follows the ear AU."""
    sid = yaml.safe_load(dataset.read_text())["sessions"][0]["id"]
    truth = pd.read_parquet(dataset.parent / "truth" / f"{sid}.parquet")
    pose = read_pose(dataset.parent / "pose" / f"{sid}.h5", n_frames=len(truth))
    assert list(pose.keypoint.values) == list(KEYPOINT_NAMES)
    assert pose.attrs["n_low_confidence"] > 0  # a few points a network would doubt
    values, names = keypoint_features(pose.values, KEYPOINT_NAMES)
    f = pd.DataFrame(values, columns=names)
    ok = f.notna().all(axis=1).to_numpy()
    assert ok.mean() > 0.9
    closing = truth["au_eye_close"].to_numpy() + truth["blink"].to_numpy()
    r_eye = np.corrcoef(f["eye_opening"][ok], closing[ok])[0, 1]
    r_ear = np.corrcoef(f["ear_angle"][ok], truth["au_ear_angle"][ok])[0, 1]
    # without the tracking noise both are about -0.93 and 0.56 on real faces
    assert r_eye < -0.4
    assert r_ear > 0.3


def test_tracking_noise_and_confidence(tmp_path: Path) -> None:
    n = 2000
    true = np.tile(np.arange(18, dtype=np.float64).reshape(1, 9, 2) * 10, (n, 1, 1))
    paw = np.zeros(n)
    paw[100:150] = 0.8
    path = write_synthetic_pose(
        tmp_path / "p.csv", true, fps=20.0, rng=np.random.default_rng(0), paw=paw
    )
    got = read_pose(path, confidence_threshold=None, max_gap=0)
    from movement.io import load_dataset

    conf = load_dataset(path, source_software="DeepLabCut")["confidence"].values[:, :, 0]
    low = conf < 0.6
    err = got.values - true
    assert 1.3 < np.std(err[~low]) < 1.7  # ~1.5 px jitter
    snout = [KEYPOINT_NAMES.index(k) for k in ("nose", "mouth", "whisker_pad")]
    assert low[100:150][:, snout].all()  # the grooming paw hides the snout
    rest = np.delete(low, np.s_[100:150], axis=0)
    assert 0.003 < rest.mean() < 0.03  # about 1 % doubtful points elsewhere
