"""Landmarks of real mouse faces: shipped identities, user videos, and faces that are not faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.synth.faces import load_face_video, load_faces, load_identity, shipped_identities
from mouseface.synth.landmarks import LANDMARK_NAMES, find_landmarks


def _plausible(lm) -> None:
    p = {k: np.array(v) for k, v in lm.points.items()}
    assert set(p) == set(LANDMARK_NAMES)
    assert p["nose"][0] < p["eye"][0] - 1.5 * lm.eye_radius  # snout in front (left)
    assert p["ear_tip"][1] < p["ear_base"][1]  # pinna points up
    assert p["ear_base"][0] > p["eye"][0]  # ear behind the eye
    assert p["mouth"][1] > p["nose"][1] - lm.eye_radius  # mouth not above the nose
    assert 2.0 * lm.eye_radius <= lm.scale <= 16.0 * lm.eye_radius


def test_three_distinct_shipped_mice() -> None:
    names = shipped_identities()
    assert names == ("ECO_3_000_M", "ECO_3_00B_M", "ECO_5_R00_F")


@pytest.mark.parametrize("name", shipped_identities())
def test_landmarks_on_every_shipped_identity(name: str) -> None:
    face = load_identity(name)
    assert face.frames.dtype == np.uint8 and face.frames.shape[1:] == (90, 120)
    assert face.clips[-1][1] == len(face.frames)
    lm = find_landmarks(face.median(), name=name)
    _plausible(lm)
    # the DER face: eye about 10 px across, at the same place in every mosaic (x ~33, y ~40)
    ex, ey = lm.points["eye"]
    assert 25 < ex < 42 and 32 < ey < 48
    assert 1.5 < lm.eye_radius < 5


def test_landmarks_on_pupil_video_facing_right(shared_data: Path) -> None:
    face = load_face_video(
        shared_data / "pupil" / "sample_video.mp4", facing="right", max_frames=100
    )
    lm = find_landmarks(face.median(), name="pupil")
    _plausible(lm)
    ex, ey = lm.points["eye"]  # the eye of the close-up: x ~456 (mirrored), y ~280
    assert abs(ex - 456) < 40 and abs(ey - 280) < 40
    assert lm.eye_radius > 20


def test_landmarks_on_der_trial_video_with_roi(shared_data: Path) -> None:
    face = load_face_video(
        shared_data / "der" / "trial_4_full.mp4", roi=(0, 30, 340, 255), max_frames=60
    )
    lm = find_landmarks(face.median(), name="trial_4_full")
    _plausible(lm)


@pytest.mark.parametrize("kind", ["blank", "noise", "gradient"])
def test_not_a_face_is_input_error(kind: str) -> None:
    rng = np.random.default_rng(0)
    img = {
        "blank": np.full((90, 120), 128.0),
        "noise": rng.uniform(0, 255, (90, 120)),
        "gradient": np.tile(np.linspace(0, 255, 120), (90, 1)),
    }[kind]
    with pytest.raises(InputError, match="clip.mp4.*could not find"):
        find_landmarks(img, name="clip.mp4")


def test_user_video_without_face_names_the_file(tmp_path: Path) -> None:
    from helpers import write_video

    rng = np.random.default_rng(1)
    frames = rng.integers(0, 255, (12, 96, 128), dtype=np.uint8)
    path = tmp_path / "noface.mp4"
    write_video(path, frames)
    from mouseface.synth import generate_dataset

    with pytest.raises(InputError, match="noface.mp4"):
        generate_dataset(tmp_path / "out", n_animals=1, faces=path, trials_per_stimulus=1)


def test_bad_faces_option_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="faces="):
        load_faces(tmp_path / "missing")
    with pytest.raises(InputError, match="facing"):
        load_face_video(tmp_path, facing="up")
