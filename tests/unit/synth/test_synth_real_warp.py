"""Action units as image warps on a real face: identity at zero, local, linear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mouseface.synth.faces import load_identity
from mouseface.synth.landmarks import LANDMARK_NAMES
from mouseface.synth.profiles import AU_NAMES
from mouseface.synth.real_render import RealFaceRenderer, Variant
from mouseface.synth.warp import AU_REGIONS, unit_fields


@pytest.fixture(scope="module")
def face():
    return load_identity("ECO_3_000_M")


@pytest.fixture(scope="module")
def native(face) -> RealFaceRenderer:
    """A renderer at the footage's own size: output pixel = footage pixel."""
    return RealFaceRenderer(face, size=face.frames.shape[1:])


def test_zero_amplitude_is_identity(face, native) -> None:
    for i in (0, 500, 1500):
        out = native.render(face.frames[i], np.zeros(len(AU_NAMES)))
        diff = np.abs(out.astype(int) - face.frames[i].astype(int))
        assert diff.max() <= 1


@pytest.mark.parametrize("unit", AU_NAMES)
def test_each_unit_moves_pixels_in_its_region(face, native, unit: str) -> None:
    base = np.clip(np.round(face.median()), 0, 255).astype(np.uint8)
    au = np.zeros(len(AU_NAMES))
    au[AU_NAMES.index(unit)] = 1.0
    diff = np.abs(native.render(base, au).astype(float) - base)
    lm = native.landmarks
    yy, xx = np.mgrid[0 : base.shape[0], 0 : base.shape[1]]
    dist = np.min(
        [np.hypot(xx - lm.points[n][0], yy - lm.points[n][1]) for n in AU_REGIONS[unit]], axis=0
    )
    assert diff.max() >= 8, f"{unit} hardly changes the face"
    near = dist <= 1.2 * lm.scale
    assert diff[near].sum() >= 0.8 * diff.sum(), f"{unit} moves pixels outside its region"
    assert diff[dist > 2.5 * lm.scale].max(initial=0) <= 2


def test_fields_vanish_far_from_the_face(native) -> None:
    lm = native.landmarks
    far = np.array([[lm.points["eye"][0] + 10 * lm.scale], [lm.points["eye"][1] + 10 * lm.scale]])
    assert np.abs(unit_fields(lm, far[0], far[1])).max() == 0


@settings(max_examples=25, deadline=None)
@given(
    a=st.lists(st.floats(-1.5, 1.5), min_size=len(AU_NAMES), max_size=len(AU_NAMES)),
    b=st.lists(st.floats(-1.5, 1.5), min_size=len(AU_NAMES), max_size=len(AU_NAMES)),
)
def test_maps_add_linearly(native, a, b) -> None:
    a, b = np.array(a), np.array(b)
    zero = np.zeros(len(AU_NAMES))
    m0, ma, mb, mab = (np.stack(native.map(v)) for v in (zero, a, b, a + b))
    np.testing.assert_allclose(mab - m0, (ma - m0) + (mb - m0), atol=1e-3)


def test_landmark_track(native) -> None:
    neutral = native.landmarks_at(np.zeros(len(AU_NAMES)))
    np.testing.assert_allclose(neutral, native.landmarks.array(), atol=1e-6)
    shifted = native.landmarks_at(np.zeros(len(AU_NAMES)), dx=2.0, dy=-1.0)
    np.testing.assert_allclose(shifted - neutral, np.tile([2.0, -1.0], (len(LANDMARK_NAMES), 1)))
    au = np.zeros(len(AU_NAMES))
    au[AU_NAMES.index("nose_down")] = 1.0
    moved = native.landmarks_at(au) - neutral
    i = LANDMARK_NAMES.index("nose")
    assert moved[i, 1] > 0.2 * native.landmarks.scale  # the nose tip went down
    assert np.abs(moved[LANDMARK_NAMES.index("ear_tip")]).max() < 1e-6


def test_mirrored_variant_mirrors_the_face(face) -> None:
    plain = RealFaceRenderer(face, size=(90, 120))
    mirror = RealFaceRenderer(face, size=(90, 120), variant=Variant(mirror=True))
    a = plain.render(face.frames[10]).astype(int)
    b = mirror.render(face.frames[10]).astype(int)
    assert np.abs(a[:, ::-1] - b).max() <= 1
    ex = mirror.landmarks_at(np.zeros(len(AU_NAMES)))[0, 0]
    assert abs(ex - (119 - plain.landmarks.points["eye"][0])) < 1e-6
