"""A pose file's keypoint features added to a feature store as the ``keypoints`` set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import moving_square, write_video
from mouseface.errors import InputError
from mouseface.features.extract import extract_features
from mouseface.features.keypoint_store import add_keypoints
from mouseface.features.keypoints import FEATURE_GROUPS, KEYPOINT_NAMES, keypoint_features
from mouseface.io.config import KEYPOINT_GROUPS
from mouseface.io.feature_store import open_features, open_store
from mouseface.io.pose import write_pose_dlc

pytest.importorskip("movement")

N = 30
# a side-view face, snout to the left: (x, y) of KEYPOINT_NAMES
FACE = np.array(
    [[20, 60], [45, 45], [60, 45], [52, 40], [52, 50], [80, 40], [95, 15], [30, 70], [32, 58]],
    dtype=np.float64,
)


def _tracks(n: int = N) -> np.ndarray:
    """Keypoints (n, 9, 2): the ear swings forward and back, the eye closes half-way."""
    t = np.linspace(0, 2 * np.pi, n)
    pos = np.repeat(FACE[None], n, axis=0)
    pos[:, KEYPOINT_NAMES.index("ear_tip"), 0] += 10 * np.sin(t)
    pos[:, KEYPOINT_NAMES.index("eye_top"), 1] += 2.5 * (1 - np.cos(t))
    return pos


def _store(tmp_path: Path, sets: list[str], n: int = N) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    video = write_video(tmp_path / "v.mp4", moving_square(n, h=64, w=96))
    store = tmp_path / "f.zarr"
    params = {"orientations": 8, "pixels_per_cell": (16, 16), "cells_per_block": (1, 1)}
    extract_features(video, store, hog_params=params, feature_sets=sets, chunk_size=16)
    return store


def test_the_config_lists_the_feature_groups_of_features_keypoints():
    assert tuple(FEATURE_GROUPS) == KEYPOINT_GROUPS


def test_keypoints_stored_beside_hog_and_stacked_with_their_weight(tmp_path: Path):
    store = _store(tmp_path, ["hog"])
    pos = _tracks()
    conf = np.ones((N, 9))
    conf[7, KEYPOINT_NAMES.index("nose")] = 0.1  # dropped, then interpolated
    pose = write_pose_dlc(tmp_path / "cam.h5", pos, KEYPOINT_NAMES, fps=20, confidence=conf)
    res = add_keypoints(store, pose, feature_sets=["hog", "keypoints"], weight=0.5,
                        attrs={"pose_sha256": "abc"})  # fmt: skip
    assert res.n_frames == N and res.n_low_confidence == 2  # x and y of one point
    assert res.names[0] == "ear_angle_rad" and len(res.names) == 9
    g = open_store(store)
    assert g.attrs["feature_sets"] == ["hog", "keypoints"]
    assert g.attrs["feature_weights"] == {"hog": 1.0, "keypoints": 0.5}
    assert g.attrs["keypoints"]["pose_sha256"] == "abc"
    assert g["keypoints"].attrs["_ARRAY_DIMENSIONS"] == ["frame", "keypoints_feature"]
    assert list(g["keypoints"].attrs["features"]) == list(res.names)
    want, _ = keypoint_features(pos, KEYPOINT_NAMES)
    want[:, 0] = np.deg2rad(want[:, 0])
    got = g["keypoints"][:]
    np.testing.assert_allclose(got, want, atol=1e-4)
    # the ear swing shows in its angle: 10 px on a 20-px-long ear is about +-0.4 rad
    assert np.ptp(got[:, 0]) > 0.5
    m = open_features(store)
    assert m.shape == (N, g["hog"].shape[1] + 9)
    np.testing.assert_allclose(m[:][:, -9:], 0.5 * got, rtol=1e-6)


def test_keypoints_alone_and_chosen_groups(tmp_path: Path):
    store = _store(tmp_path, [])
    pose = write_pose_dlc(tmp_path / "cam.csv", _tracks(), KEYPOINT_NAMES, fps=20)
    res = add_keypoints(store, pose, feature_sets=["keypoints"], groups=["eye", "ear"])
    assert res.names == ("eye_opening", "ear_angle_rad", "ear_eye_distance")
    m = open_features(store)
    assert m.names == ("keypoints",) and m.shape == (N, 3)
    eye = m[:][:, 0]
    assert eye[N // 2] < 0.75 * eye[0]  # the eye closes half-way mid-session


def test_long_gaps_are_filled_from_the_nearest_frames(tmp_path: Path):
    store = _store(tmp_path, ["hog"])
    pos = _tracks()
    pos[10:20, KEYPOINT_NAMES.index("mouth")] = np.nan  # 10 frames: beyond max_gap
    pose = write_pose_dlc(tmp_path / "cam.h5", pos, KEYPOINT_NAMES, fps=20)
    res = add_keypoints(store, pose, feature_sets=["hog", "keypoints"], max_gap=2)
    assert res.n_filled == 20  # mouth_x and mouth_y in 10 frames
    assert np.isfinite(open_store(store)["keypoints"][:]).all()
    pos[:, KEYPOINT_NAMES.index("mouth")] = np.nan
    pose = write_pose_dlc(tmp_path / "cam.h5", pos, KEYPOINT_NAMES, fps=20)
    with pytest.raises(InputError, match=r"cam\.h5.*'mouth_x' is missing in every frame"):
        add_keypoints(_store(tmp_path / "b", ["hog"]), pose, feature_sets=["hog", "keypoints"])


def test_a_pose_file_of_another_length_is_named_with_both_counts(tmp_path: Path):
    store = _store(tmp_path, ["hog"])
    pose = write_pose_dlc(tmp_path / "short.h5", _tracks(N - 5), KEYPOINT_NAMES, fps=20)
    with pytest.raises(InputError, match=rf"short\.h5: the pose file has {N - 5} frames but the "
                       rf"video has {N}.*run the pose estimation"):  # fmt: skip
        add_keypoints(store, pose, feature_sets=["hog", "keypoints"])
    assert "keypoints" not in open_store(store)


def test_pose_times_that_drift_from_the_video_are_refused(tmp_path: Path):
    store = _store(tmp_path, ["hog"])  # the test video runs at 20 fps
    pose = write_pose_dlc(tmp_path / "cam.h5", _tracks(), KEYPOINT_NAMES, fps=20)
    add_keypoints(_store(tmp_path / "ok", ["hog"]), pose, feature_sets=["hog", "keypoints"],
                  fps=20)  # fmt: skip
    with pytest.raises(InputError, match=r"cam\.h5: at frame \d+ the pose file's time"):
        add_keypoints(store, pose, feature_sets=["hog", "keypoints"], fps=25)


def test_missing_keypoints_are_listed_with_the_aliases_fix(tmp_path: Path):
    store = _store(tmp_path, ["hog"])
    names = [("EarTip" if n == "ear_tip" else n) for n in KEYPOINT_NAMES]
    pose = write_pose_dlc(tmp_path / "cam.h5", _tracks(), names, fps=20)
    with pytest.raises(InputError, match=r"cam\.h5: keypoint\(s\) ear_tip needed.*aliases"):
        add_keypoints(store, pose, feature_sets=["hog", "keypoints"])
    res = add_keypoints(store, pose, feature_sets=["hog", "keypoints"],
                        aliases={"EarTip": "ear_tip"})  # fmt: skip
    assert "ear_angle_rad" in res.names
