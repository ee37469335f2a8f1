from __future__ import annotations

import numpy as np

from mouseface.features.extract import face_size, resize_faces
from mouseface.features.motion import brightness_flags, motion_energy, motion_outliers


def test_motion_energy_is_mean_abs_difference():
    rng = np.random.default_rng(0)
    f = rng.integers(0, 256, (6, 30, 40), dtype=np.uint8)
    prev = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    ref = np.abs(np.diff(np.concatenate([prev[None], f]).astype(int), axis=0)).mean(axis=(1, 2))
    np.testing.assert_allclose(motion_energy(f, previous=prev), ref, rtol=1e-5)
    no_prev = motion_energy(f)
    assert no_prev[0] == 0 and np.allclose(no_prev[1:], ref[1:], rtol=1e-5)


def test_brightness_flags_and_outliers():
    f = np.full((4, 10, 10), 100, np.uint8)
    f[1] = 2
    f[2, :6] = 255
    dark, sat = brightness_flags(f)
    assert dark.tolist() == [False, True, False, False]
    assert sat.tolist() == [False, False, True, False]
    m = np.r_[np.random.default_rng(1).normal(1, 0.1, 200), 10.0]
    out = motion_outliers(m)
    assert out[-1] and out[:-1].sum() < 3
    assert not motion_outliers(np.ones(10)).any()


def test_face_size_keeps_aspect_and_resize():
    assert face_size((100, 120), 320) == (267, 320)
    assert face_size((100, 120), None) == (100, 120)
    f = np.zeros((2, 100, 120), np.uint8)
    assert resize_faces(f, (267, 320)).shape == (2, 267, 320)
