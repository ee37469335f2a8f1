"""Keypoint features: known geometry, invariance to pose of the whole face, missing keypoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mouseface.errors import InputError
from mouseface.features.keypoints import (
    FEATURE_GROUPS,
    KEYPOINT_NAMES,
    keypoint_feature_names,
    keypoint_features,
    required_keypoints,
)

#: a right-facing face, head axis along +x, eye centre (50, 0), head size 50 px
FACE = {
    "nose": (100.0, 0.0),
    "eye_front": (55.0, 0.0),
    "eye_back": (45.0, 0.0),
    "eye_top": (50.0, -4.0),
    "eye_bottom": (50.0, 4.0),
    "ear_base": (0.0, 0.0),
    "ear_tip": (-20.0, -20.0),
    "mouth": (80.0, 30.0),
    "whisker_pad": (85.0, 15.0),
}
EXPECTED = {
    "ear_angle": 45.0,
    "ear_eye_distance": math.hypot(70.0, 20.0) / 50.0,
    "eye_opening": 8.0 / 50.0,
    "nose_x": 1.0,
    "nose_y": 0.0,
    "mouth_x": 0.6,
    "mouth_y": 0.6,
    "whisker_pad_x": 0.7,
    "whisker_pad_y": 0.3,
}


def face(n: int = 3, names: tuple[str, ...] = KEYPOINT_NAMES) -> np.ndarray:
    return np.repeat(np.array([[FACE[k] for k in names]]), n, axis=0)


def test_known_geometry() -> None:
    values, names = keypoint_features(face(), KEYPOINT_NAMES)
    assert values.dtype == np.float32 and values.shape == (3, len(EXPECTED))
    assert names == keypoint_feature_names()
    for j, name in enumerate(names):
        np.testing.assert_allclose(values[:, j], EXPECTED[name], atol=1e-6, err_msg=name)


def test_features_follow_the_face() -> None:
    pos = face(2)
    i = {k: j for j, k in enumerate(KEYPOINT_NAMES)}
    pos[1, i["eye_top"]] = (50.0, -1.0)  # eye half closed... 5 px open instead of 8
    pos[1, i["ear_tip"]] = (-20.0, 0.0)  # ear flattened back along the head
    pos[1, i["mouth"]] = (80.0, 40.0)  # mouth opens downwards
    values, names = keypoint_features(pos, KEYPOINT_NAMES)
    col = {n: values[:, j] for j, n in enumerate(names)}
    assert col["eye_opening"][1] == pytest.approx(5.0 / 50.0)
    assert col["ear_angle"][1] == pytest.approx(0.0, abs=1e-6)
    assert col["mouth_y"][1] == pytest.approx(0.8)
    # the other features are unchanged
    assert (
        col["nose_x"][1] == col["nose_x"][0] and col["whisker_pad_y"][1] == col["whisker_pad_y"][0]
    )


def test_head_size_per_frame_or_median() -> None:
    pos = face(3)
    pos[2, 0] = (110.0, 0.0)  # the nose moves forward in one frame
    med, names = keypoint_features(pos, KEYPOINT_NAMES, groups=["nose", "eye"])
    own, _ = keypoint_features(pos, KEYPOINT_NAMES, groups=["nose", "eye"], head_size="frame")
    assert names == ["nose_x", "nose_y", "eye_opening"]
    assert med[2, 0] == pytest.approx(60.0 / 50.0)  # visible against the median head size
    assert own[2, 0] == pytest.approx(1.0)  # not against its own
    assert own[2, 2] == pytest.approx(8.0 / 60.0)


def _transform(pos: np.ndarray, angle: float, scale: float, shift, mirror: bool) -> np.ndarray:
    p = pos.copy()
    if mirror:
        p[..., 0] = -p[..., 0]
    c, s = math.cos(angle), math.sin(angle)
    return p @ np.array([[c, s], [-s, c]]) * scale + np.asarray(shift)


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(-1.0, 1.0),
    scale=st.floats(0.2, 5.0),
    dx=st.floats(-500, 500),
    dy=st.floats(-500, 500),
    mirror=st.booleans(),
)
def test_invariant_to_moving_rotating_scaling_mirroring(angle, scale, dx, dy, mirror) -> None:
    """The same face anywhere in the image, tilted up to ~57 deg, any size, facing either way."""
    base, _ = keypoint_features(face(), KEYPOINT_NAMES)
    moved, _ = keypoint_features(_transform(face(), angle, scale, (dx, dy), mirror), KEYPOINT_NAMES)
    np.testing.assert_allclose(moved, base, atol=2e-4)


def test_aliases_and_column_order() -> None:
    names = ("Snout", "EyeA", "EyeP", "EarB", "extra", "EyeUp", "EyeLow")
    std = ("nose", "eye_front", "eye_back", "ear_base", None, "eye_top", "eye_bottom")
    pos = np.stack([np.array(FACE[k]) if k else np.zeros(2) for k in std])[None].repeat(2, 0)
    aliases = {n: s for n, s in zip(names, std, strict=True) if s}
    values, out = keypoint_features(pos, names, groups=["eye", "nose"], aliases=aliases)
    assert out == ["eye_opening", "nose_x", "nose_y"]
    np.testing.assert_allclose(values[0], [0.16, 1.0, 0.0], atol=1e-6)


def test_missing_keypoints_are_listed_with_the_fix() -> None:
    names = ("nose", "eye_front", "eye_back", "ear_base", "ear_tip")
    with pytest.raises(InputError) as err:
        keypoint_features(face(2, names), names, source="cam1.h5")
    msg = str(err.value)
    assert msg.startswith("cam1.h5: keypoint(s) eye_top, eye_bottom, mouth, whisker_pad needed")
    assert "aliases" in msg and "ear_tip" in msg  # lists what the file has
    values, got = keypoint_features(face(2, names), names, groups=["ear", "nose"])
    assert got == ["ear_angle", "ear_eye_distance", "nose_x", "nose_y"] and values.shape == (2, 4)


def test_missing_points_give_nan_in_their_frames_only() -> None:
    pos = face(3)
    pos[1, KEYPOINT_NAMES.index("mouth")] = np.nan
    values, names = keypoint_features(pos, KEYPOINT_NAMES)
    j = names.index("mouth_x")
    assert np.isnan(values[1, j]) and np.isnan(values[1, j + 1])
    assert np.isfinite(np.delete(values, [j, j + 1], axis=1)).all()
    assert np.isfinite(values[[0, 2]]).all()


def test_bad_input() -> None:
    with pytest.raises(InputError, match=r"must be \(n_frames, n_keypoints=9, 2\)"):
        keypoint_features(np.zeros((3, 9)), KEYPOINT_NAMES)
    with pytest.raises(InputError, match="unknown or empty"):
        keypoint_features(face(), KEYPOINT_NAMES, groups=["tail"])
    with pytest.raises(InputError, match="unknown keypoint name"):
        keypoint_features(face(), KEYPOINT_NAMES, aliases={"nose": "snout"})
    with pytest.raises(InputError, match="two keypoints are named"):
        keypoint_features(face(), KEYPOINT_NAMES, aliases={"eye_front": "nose"})
    nan = np.full((2, len(KEYPOINT_NAMES), 2), np.nan)
    with pytest.raises(InputError, match="no frame has all of eye_front"):
        keypoint_features(nan, KEYPOINT_NAMES)


def test_required_keypoints_cover_the_groups() -> None:
    assert required_keypoints(["nose"]) == ["nose", "eye_front", "eye_back", "ear_base"]
    assert set(required_keypoints()) == set(KEYPOINT_NAMES)
    assert keypoint_feature_names() == [f for g in FEATURE_GROUPS.values() for f in g[1]]
