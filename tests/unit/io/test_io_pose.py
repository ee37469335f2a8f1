"""Pose files through movement: DLC/SLEAP/Lightning Pose in, DLC out, checks against the video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.features.keypoints import KEYPOINT_NAMES, keypoint_features
from mouseface.io.pose import pose_software, read_pose, write_pose_dlc

pytest.importorskip("movement")

N = 40
NAMES = ["nose", "eye", "ear"]


def tracks(n: int = N, k: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth random tracks (n, k, 2) in pixels."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None, None]
    return 100 + 20 * rng.random((1, k, 2)) + 3 * np.sin(t / 5 + rng.random((1, k, 2)) * 6)


def _dataset(pos: np.ndarray, conf: np.ndarray, names: list[str], individuals: list[str]):
    from movement.io import load_poses

    return load_poses.from_numpy(
        position_array=pos,  # (n, 2, k, individuals)
        confidence_array=conf,
        individual_names=individuals,
        keypoint_names=names,
        fps=20,
    )


@pytest.mark.parametrize("suffix", [".h5", ".csv"])
def test_dlc_write_read_round_trip(tmp_path: Path, suffix: str) -> None:
    pos = tracks()
    path = write_pose_dlc(tmp_path / f"cam{suffix}", pos, NAMES, fps=20)
    times = np.cumsum(np.r_[0.0, np.random.default_rng(1).uniform(0.045, 0.055, N - 1)])
    got = read_pose(path, frame_times=times)
    assert got.dims == ("time", "keypoint", "space")
    assert list(got.keypoint.values) == NAMES and list(got.space.values) == ["x", "y"]
    np.testing.assert_allclose(got.values, pos, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got.time.values, times)  # the video's (variable) frame times
    np.testing.assert_array_equal(got.frame.values, np.arange(N))
    assert got.attrs["source_software"] == "DeepLabCut" and got.attrs["n_missing"] == 0


def test_write_replaces_atomically_and_checks_input(tmp_path: Path) -> None:
    path = tmp_path / "cam.h5"
    write_pose_dlc(path, tracks(), NAMES, fps=20)
    write_pose_dlc(path, tracks(seed=3), NAMES, fps=20)  # movement alone refuses to overwrite
    np.testing.assert_allclose(read_pose(path).values, tracks(seed=3), atol=1e-9)
    assert [p.name for p in tmp_path.iterdir()] == ["cam.h5"]  # no temporary left
    with pytest.raises(InputError, match=r"\(n_frames, n_keypoints=2, 2\)"):
        write_pose_dlc(tmp_path / "x.h5", tracks(), NAMES[:2], fps=20)
    with pytest.raises(InputError, match=r"\.h5 or \.csv"):
        write_pose_dlc(tmp_path / "x.slp", tracks(), NAMES, fps=20)
    with pytest.raises(InputError, match="repeat"):
        write_pose_dlc(tmp_path / "x.h5", tracks(), ["a", "a", "b"], fps=20)


def test_low_confidence_points_are_dropped_and_short_gaps_filled(tmp_path: Path) -> None:
    pos = tracks()
    conf = np.ones((N, 3))
    conf[10:13, 1] = 0.2  # a 3-frame gap
    conf[20:30, 2] = 0.1  # a 10-frame gap
    path = write_pose_dlc(tmp_path / "cam.h5", pos, NAMES, fps=20, confidence=conf)
    got = read_pose(path, confidence_threshold=0.6, max_gap=5)
    assert got.attrs["n_low_confidence"] == (3 + 10) * 2
    # the short gap is filled by linear interpolation between frames 9 and 13
    w = (np.arange(10, 13) - 9) / 4.0
    want = pos[9, 1] + w[:, None] * (pos[13, 1] - pos[9, 1])
    np.testing.assert_allclose(got.values[10:13, 1], want, atol=1e-9)
    # the long gap stays missing, the rest is untouched
    assert np.isnan(got.values[20:30, 2]).all() and got.attrs["n_missing"] == 20
    np.testing.assert_allclose(got.values[:, 0], pos[:, 0], atol=1e-9)
    kept = read_pose(path, confidence_threshold=None)
    np.testing.assert_allclose(kept.values, pos, atol=1e-9)
    unfilled = read_pose(path, max_gap=0)
    assert np.isnan(unfilled.values[10:13, 1]).all()


def test_sleap_analysis_and_lightning_pose_files(tmp_path: Path) -> None:
    from movement.io import save_poses

    pos = tracks()
    ds = _dataset(pos.transpose(0, 2, 1)[..., None], np.ones((N, 3, 1)), NAMES, ["mouse"])
    sleap = tmp_path / "cam.analysis.h5"
    save_poses.to_sleap_analysis_file(ds, sleap)
    assert pose_software(sleap) == "SLEAP"
    got = read_pose(sleap, n_frames=N)
    assert got.attrs["source_software"] == "SLEAP"
    np.testing.assert_allclose(got.values, pos, atol=1e-4)  # SLEAP stores float32
    save_poses.to_lp_file(ds, tmp_path / "lp.csv")  # writes lp_<individual>.csv
    got = read_pose(tmp_path / "lp_mouse.csv", software="lightning-pose", n_frames=N)
    assert got.attrs["source_software"] == "LightningPose"
    np.testing.assert_allclose(got.values, pos, atol=1e-9)


def test_frame_count_mismatch_names_file_and_fix(tmp_path: Path) -> None:
    path = write_pose_dlc(tmp_path / "cam.h5", tracks(), NAMES, fps=20)
    with pytest.raises(InputError) as err:
        read_pose(path, n_frames=N + 5)
    msg = str(err.value)
    assert str(path) in msg and f"has {N} frames but the video has {N + 5}" in msg
    assert "this session's video" in msg
    with pytest.raises(InputError, match=f"but the video has {N - 1}"):
        read_pose(path, frame_times=np.arange(N - 1) / 20)


def test_fps_checked_against_video_timestamps(tmp_path: Path) -> None:
    path = write_pose_dlc(tmp_path / "cam.h5", tracks(), NAMES, fps=20)
    video_times = np.arange(N) / 25.0  # the video runs at 25 fps
    with pytest.raises(InputError, match=r"at frame 39 the pose file's time \(1\.950 s at 20 fps"):
        read_pose(path, frame_times=video_times, fps=20)
    ok = read_pose(path, frame_times=video_times, fps=25)
    np.testing.assert_array_equal(ok.time.values, video_times)
    assert read_pose(path, fps=20).time.values[-1] == pytest.approx((N - 1) / 20)


def test_several_animals_need_a_name(tmp_path: Path) -> None:
    from movement.io import save_poses

    pos = np.stack([tracks(seed=1), tracks(seed=2)], axis=-1).transpose(0, 2, 1, 3)
    ds = _dataset(pos, np.ones((N, 3, 2)), NAMES, ["m1", "m2"])
    path = tmp_path / "multi.h5"
    save_poses.to_dlc_file(ds, path, split_individuals=False)
    with pytest.raises(InputError, match=r"tracks 2 animals \(m1, m2\); name the one"):
        read_pose(path)
    np.testing.assert_allclose(read_pose(path, individual="m2").values, tracks(seed=2), atol=1e-9)
    with pytest.raises(InputError, match="no animal 'm3'"):
        read_pose(path, individual="m3")


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="pose file not found"):
        read_pose(tmp_path / "none.h5")
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"junk\.csv: cannot be read as a DeepLabCut pose file"):
        read_pose(junk)
    other = tmp_path / "cam.json"
    other.write_text("{}")
    with pytest.raises(InputError, match="unknown pose file type"):
        read_pose(other)
    with pytest.raises(InputError, match="unknown pose software"):
        pose_software(junk, "openpose")


def test_synthetic_landmarks_to_keypoint_features_end_to_end(tmp_path: Path) -> None:
    """Landmarks -> DLC file -> read_pose -> keypoint features equal those of the arrays."""
    rng = np.random.default_rng(4)
    base = np.array(
        [[100, 0], [55, 0], [45, 0], [50, -4], [50, 4], [0, 0], [-20, -20], [80, 30], [85, 15]],
        dtype=float,
    )
    assert base.shape == (len(KEYPOINT_NAMES), 2)
    land = base[None] + 200 + rng.normal(scale=0.5, size=(N, len(KEYPOINT_NAMES), 2))
    land[:, 6, 1] += np.linspace(0, 20, N)  # the ear tip flattens over the clip
    path = write_pose_dlc(tmp_path / "synth.h5", land, KEYPOINT_NAMES, fps=20)
    pose = read_pose(path, frame_times=np.arange(N) / 20, fps=20)
    got, names = keypoint_features(pose.values, pose.keypoint.values, source=str(path))
    want, _ = keypoint_features(land, KEYPOINT_NAMES)
    np.testing.assert_allclose(got, want, atol=1e-5)
    ear = got[:, names.index("ear_angle")]
    assert ear[0] > 40 and ear[-1] < 10  # ear angle falls as the ear flattens
