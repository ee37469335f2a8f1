"""Unit tests of mouseface.face registration (Transform, estimate/apply) and Stabiliser."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.face import Stabiliser, Transform, apply_transform, estimate_transform

SIZE = 160  # side of the centre crops that are registered


def _texture(shape=(320, 320), seed=0) -> np.ndarray:
    """A textured uint8 image (smoothed noise at two scales plus a few ellipses)."""
    rng = np.random.default_rng(seed)
    fine = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 2.0)
    coarse = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 8.0)
    img = 40 * fine / fine.std() + 40 * coarse / coarse.std() + 128
    for _ in range(5):
        my, mx = shape[0] // 4, shape[1] // 4
        centre = (int(rng.integers(mx, shape[1] - mx)), int(rng.integers(my, shape[0] - my)))
        axes = (int(rng.integers(8, 30)), int(rng.integers(5, 20)))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, 30.0, -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _crop(img: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Centre crop; the big image and the crop share their centre (even sizes)."""
    h, w = img.shape
    y0, x0 = (h - size) // 2, (w - size) // 2
    return img[y0 : y0 + size, x0 : x0 + size]


def _assert_close(est: Transform, true: Transform) -> None:
    assert abs(est.dy - true.dy) <= 0.5, (est, true)
    assert abs(est.dx - true.dx) <= 0.5, (est, true)
    assert abs(est.rotation - true.rotation) <= 0.5, (est, true)
    assert abs(est.scale / true.scale - 1) <= 0.01, (est, true)


# --------------------------------------------------------------------------- Transform
def test_transform_defaults_and_dict():
    t = Transform()
    assert (t.dy, t.dx, t.rotation, t.scale) == (0.0, 0.0, 0.0, 1.0)
    assert math.isnan(t.score)
    assert set(Transform(1, 2, 3, 1.1, 0.9).as_dict()) == {"dy", "dx", "rotation", "scale", "score"}


@pytest.mark.parametrize("bad", [{"scale": 0.0}, {"scale": -1.0}, {"dx": float("nan")}])
def test_transform_rejects_invalid(bad):
    with pytest.raises(InputError, match="invalid"):
        Transform(**bad)


def test_transform_is_frozen():
    with pytest.raises(AttributeError):
        Transform().dx = 3.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "t", [Transform(3.0, -7.5, 12.0, 1.07), Transform(-2.0, 0.5, -33.0, 0.91), Transform()]
)
@pytest.mark.parametrize("shapes", [((100, 120), (100, 120)), ((90, 140), (120, 100))])
def test_inverse_matrix_composes_to_identity(t, shapes):
    in_shape, out_shape = shapes
    fwd = np.vstack([t.matrix(in_shape, out_shape), [0, 0, 1]])
    back = np.vstack([t.inverse().matrix(out_shape, in_shape), [0, 0, 1]])
    np.testing.assert_allclose(back @ fwd, np.eye(3), atol=1e-9)
    inv2 = t.inverse().inverse()
    np.testing.assert_allclose(
        [inv2.dy, inv2.dx, inv2.rotation, inv2.scale], [t.dy, t.dx, t.rotation, t.scale]
    )


def test_matrix_maps_image_centre_to_reference_centre_plus_shift():
    t = Transform(dy=4.0, dx=-3.0, rotation=25.0, scale=1.2)
    m = t.matrix((101, 81), (60, 70))
    centre_in = np.array([40.0, 50.0, 1.0])  # (x, y) centre of a 101x81 (h x w) image
    np.testing.assert_allclose(m @ centre_in, [34.5 - 3.0, 29.5 + 4.0])


# -------------------------------------------------------------------- apply_transform
def test_apply_transform_direction_convention():
    """dx > 0 moves content right; rotation > 0 is counter-clockwise on screen."""
    img = np.zeros((41, 41), np.float32)
    img[20, 30] = 1.0  # a dot 10 px right of the centre (20, 20)
    moved = apply_transform(img, Transform(dx=5.0))
    assert np.unravel_index(np.argmax(moved), moved.shape) == (20, 35)
    turned = apply_transform(img, Transform(rotation=90.0))
    assert np.unravel_index(np.argmax(turned), turned.shape) == (10, 20)  # right -> up


def test_apply_transform_round_trip():
    img = _texture((200, 240))
    t = Transform(dy=6.3, dx=-4.2, rotation=17.0, scale=1.08)
    there = apply_transform(img.astype(np.float32), t)
    back = apply_transform(there, t.inverse())
    inner = np.s_[50:150, 60:180]
    err = np.abs(back[inner] - img[inner].astype(np.float32)).mean()
    not_inverted = np.abs(there[inner] - img[inner].astype(np.float32)).mean()
    assert err < 0.1 * img.std()  # only the blur of two bilinear resamplings remains
    assert err < 0.1 * not_inverted
    assert back.dtype == np.float32 and back.shape == img.shape


def test_apply_transform_output_shape_and_dtype():
    img = _texture((60, 80))
    out = apply_transform(img, Transform(), output_shape=(40, 50))
    assert out.shape == (40, 50) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, img[10:50, 15:65])  # identity: centres matched


def test_apply_transform_errors():
    with pytest.raises(InputError):
        apply_transform(np.zeros((0, 5)), Transform())
    with pytest.raises(InputError, match="Transform"):
        apply_transform(np.zeros((10, 10)), (1, 2, 3, 4))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="output_shape"):
        apply_transform(np.zeros((10, 10)), Transform(), output_shape=(0, 5))


# ------------------------------------------------------------------ estimate_transform
@pytest.mark.parametrize(
    "true",
    [
        Transform(dy=0.0, dx=0.0),
        Transform(dy=3.4, dx=-7.7),
        Transform(dy=-12.0, dx=9.0, rotation=8.0, scale=1.06),
        Transform(dy=5.5, dx=4.25, rotation=-30.0, scale=0.92),
        Transform(dy=-2.0, dx=-3.0, rotation=40.0, scale=1.1),
    ],
)
def test_estimate_recovers_known_transform(true):
    big = _texture(seed=3)
    reference = _crop(apply_transform(big, true))
    image = _crop(big)
    est = estimate_transform(image, reference)
    _assert_close(est, true)
    assert est.score > 0.95


def test_estimate_direction_pinned_without_apply_transform():
    """Reference = image content moved 5 px right, 2 px down (by slicing) -> dx=5, dy=2."""
    big = _texture(seed=4)
    reference = big[100:260, 95:255]
    image = big[102:262, 100:260]
    est = estimate_transform(image, reference)
    assert abs(est.dx - 5.0) < 0.1 and abs(est.dy - 2.0) < 0.1
    assert abs(est.rotation) < 0.1 and abs(est.scale - 1) < 0.002


def test_estimate_then_apply_aligns_image_to_reference():
    big = _texture(seed=5)
    reference = _crop(apply_transform(big, Transform(dy=4, dx=-6, rotation=12, scale=0.95)))
    image = _crop(big)
    est = estimate_transform(image, reference)
    aligned = apply_transform(image, est).astype(np.float32)
    inner = np.s_[30:130, 30:130]
    before = np.abs(image[inner].astype(np.float32) - reference[inner]).mean()
    after = np.abs(aligned[inner] - reference[inner]).mean()
    assert after < 0.2 * before


def test_estimate_with_different_shapes_matches_centres():
    big = _texture(seed=6)
    reference = big[80:240, 80:240]  # 160x160
    image = big[60:260, 50:270]  # 200x220, same centre
    est = estimate_transform(image, reference)
    _assert_close(est, Transform())


def test_estimate_accepts_float_and_uint16():
    big = _texture(seed=7)
    true = Transform(dy=2.0, dx=-3.0, rotation=4.0)
    reference = _crop(apply_transform(big, true)).astype(np.uint16) * 200
    image = _crop(big).astype(np.float64)
    _assert_close(estimate_transform(image, reference), true)


def test_estimate_unrelated_reference_raises_with_score():
    face = _crop(_texture(seed=8))
    other = np.random.default_rng(9).integers(0, 256, face.shape, dtype=np.uint8)
    with pytest.raises(InputError) as err:
        estimate_transform(other, face)
    msg = str(err.value)
    assert "NCC score" in msg and "another" in msg and "ROI" in msg


def test_estimate_min_score_is_a_parameter():
    face = _crop(_texture(seed=8))
    other = np.random.default_rng(9).integers(0, 256, face.shape, dtype=np.uint8)
    est = estimate_transform(other, face, min_score=-1.0)
    assert est.score < 0.3


@pytest.mark.parametrize(
    ("image", "reference", "match"),
    [
        (np.zeros((32, 32, 3)), np.zeros((32, 32)), "2-D"),
        (np.zeros((32, 32)), np.zeros((32,)), "2-D"),
        (np.zeros((0, 32)), np.zeros((32, 32)), "empty"),
        (np.zeros((8, 32)), np.zeros((32, 32)), "too small"),
        (np.full((32, 32), np.nan), np.zeros((32, 32)), "NaN"),
        (np.zeros((32, 32), bool), np.zeros((32, 32)), "dtype"),
    ],
)
def test_estimate_bad_images_raise(image, reference, match):
    with pytest.raises(InputError, match=match):
        estimate_transform(image, reference)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_rotation": 200.0},
        {"rotation_step": 0.0},
        {"scales": []},
        {"scales": [1.0, -0.5]},
        {"upsample": 0},
        {"max_size": 8},
    ],
)
def test_estimate_bad_options_raise(kwargs):
    img = _crop(_texture())
    with pytest.raises(InputError):
        estimate_transform(img, img, **kwargs)


# -------------------------------------------------------------------------- Stabiliser
def _shift(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    m = np.float64([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        img,
        m,
        (img.shape[1], img.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def test_stabiliser_recovers_integer_and_subpixel_jitter():
    big = _texture((240, 320), seed=11)
    jitter = np.array([[0, 0], [3, -5], [-7, 2], [0.5, 0.25], [-2.3, 6.7], [11.6, -9.4]])
    frames = np.stack([_shift(big, dy, dx) for dy, dx in jitter])
    stab = Stabiliser(big, max_shift=15)
    aligned, shifts = stab.transform(frames)
    assert aligned.shape == frames.shape and aligned.dtype == np.uint8
    assert shifts.shape == (6, 2) and shifts.dtype == np.float64
    np.testing.assert_allclose(shifts, -jitter, atol=0.25)  # shifts undo the jitter
    inner = np.s_[:, 20:-20, 20:-20]
    after = np.abs(aligned[inner].astype(int) - big[None][inner].astype(int)).mean(axis=(1, 2))
    before = np.abs(frames[inner].astype(int) - big[None][inner].astype(int)).mean(axis=(1, 2))
    np.testing.assert_array_equal(after[:3], 0)  # integer shifts: exact copies
    assert np.all(after[3:] < 0.06 * big.std())  # sub-pixel: only resampling blur left
    assert np.all(after[3:] < 0.5 * before[3:])
    np.testing.assert_allclose(stab.shifts(frames), shifts)
    # Same convention as Transform: the shift is the translation onto the reference.
    for frame, got, (dy, dx) in zip(frames, aligned, shifts, strict=True):
        expected = apply_transform(frame, Transform(dy=dy, dx=dx))
        assert np.abs(got.astype(int) - expected.astype(int))[20:-20, 20:-20].max() <= 1


def test_stabiliser_chunks_are_independent():
    big = _texture((96, 128), seed=12)
    frames = np.stack([_shift(big, dy, dx) for dy, dx in [(1, 2), (-3, 1), (2.5, -1.5), (0, 4)]])
    stab = Stabiliser(big, max_shift=8)
    _, whole = stab.transform(frames)
    _, first = stab.transform(frames[:2])
    _, second = stab.transform(frames[2:])
    np.testing.assert_array_equal(whole, np.vstack([first, second]))


def test_stabiliser_ignores_brightness_change():
    big = _texture((128, 160), seed=13)
    brighter = np.clip(_shift(big, 2, -3).astype(int) * 1.2 + 15, 0, 255).astype(np.uint8)
    _, shifts = Stabiliser(big).transform(brighter[None])
    np.testing.assert_allclose(shifts[0], [-2, 3], atol=0.3)


def test_stabiliser_max_shift_limits_search():
    big = _texture((128, 160), seed=14)
    _, shifts = Stabiliser(big, max_shift=4).transform(_shift(big, 0, 10)[None])
    assert np.all(np.abs(shifts) <= 4.5)


@pytest.mark.parametrize(
    ("reference", "kwargs", "match"),
    [
        (np.zeros((64, 64, 3), np.uint8), {}, "gray frame"),
        (np.zeros((8, 64), np.uint8), {}, "16x16"),
        (np.zeros((64, 64), np.uint8), {"method": "ecc"}, "method"),
        (np.zeros((64, 64), np.uint8), {"max_shift": 0}, "max_shift"),
        (np.full((64, 64), np.inf), {}, "finite"),
    ],
)
def test_stabiliser_bad_reference_or_options(reference, kwargs, match):
    with pytest.raises(InputError, match=match):
        Stabiliser(reference, **kwargs)


def test_stabiliser_bad_frames():
    stab = Stabiliser(_texture((64, 64)))
    with pytest.raises(InputError, match="same ROI"):
        stab.transform(np.zeros((2, 64, 60), np.uint8))
    with pytest.raises(InputError, match="same ROI"):
        stab.transform(np.zeros((64, 64), np.uint8))
    with pytest.raises(InputError, match="uint8"):
        stab.transform(np.zeros((2, 64, 64), np.float32))
