"""mouseface.features.hog against skimage.feature.hog, on synthetic images."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.feature import hog as sk_hog

from mouseface.errors import InputError
from mouseface.features import hog, hog_shape
from mouseface.features._hog_kernel import (
    ATAN_MAX_ERR,
    atan_unit,
    edge_tolerance,
    exact_bin,
    special_bins,
)

NORMS = ["L1", "L1-sqrt", "L2", "L2-Hys"]
TOL = 1e-5


DEFAULTS = {
    "orientations": 8,
    "pixels_per_cell": (32, 32),
    "cells_per_block": (1, 1),
    "block_norm": "L2-Hys",
    "transform_sqrt": True,
}


def _reference(frames, **params):
    """skimage.feature.hog frame by frame, with mouseface's defaults (they differ)."""
    params = {**DEFAULTS, **params}
    return np.stack([sk_hog(f, feature_vector=True, **params) for f in frames])


def _assert_matches(frames, **params):
    ours = hog(frames, **params)
    ref = _reference(frames, **params)
    assert ours.dtype == np.float32
    assert ours.shape == ref.shape
    diff = np.max(np.abs(ours.astype(np.float64) - ref)) if ref.size else 0.0
    assert diff <= TOL, f"max abs diff {diff} with {params}"
    return ours


def _image(rng, kind, shape, dtype):
    """Test images; small integer levels give many exact and near ties of the angle."""
    if kind == "noise":
        img = rng.integers(0, 256, shape)
    elif kind == "levels":
        img = rng.integers(0, 5, shape)
    elif kind == "steps":
        img = rng.integers(0, 3, shape) * rng.integers(1, 120)
    else:  # blocks of constant value: axis-aligned and diagonal edges
        cells = rng.integers(0, 4, (shape[0], shape[1] // 2 + 1, shape[2] // 2 + 1))
        img = (np.kron(cells, np.ones((1, 2, 2)))[:, : shape[1], : shape[2]] * 40).astype(int)
    if dtype == np.uint8:
        return img.astype(np.uint8)
    return img.astype(dtype) / (255.0 if kind == "noise" else 1.0)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    orientations=st.integers(2, 18),
    ppc=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    cpb=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    extra=st.tuples(st.integers(0, 9), st.integers(0, 9)),
    block_norm=st.sampled_from(NORMS),
    transform_sqrt=st.booleans(),
    dtype=st.sampled_from([np.uint8, np.float64]),
    kind=st.sampled_from(["noise", "levels", "steps", "blocks"]),
)
def test_matches_skimage(
    seed, orientations, ppc, cpb, extra, block_norm, transform_sqrt, dtype, kind
):
    h = ppc[0] * cpb[0] + extra[0]
    w = ppc[1] * cpb[1] + extra[1]
    frames = _image(np.random.default_rng(seed), kind, (2, h, w), dtype)
    _assert_matches(
        frames,
        orientations=orientations,
        pixels_per_cell=ppc,
        cells_per_block=cpb,
        block_norm=block_norm,
        transform_sqrt=transform_sqrt,
    )


@pytest.mark.parametrize("orientations", [6, 8, 9, 10, 12, 16])
@pytest.mark.parametrize("transform_sqrt", [True, False])
def test_near_tie_angles(orientations, transform_sqrt):
    # values 0..4 under sqrt make gradients like (1, sqrt(2) - 1) and (sqrt(3), 1): angles of
    # 22.5 and 30 degrees up to rounding, i.e. on the bin edges of 8 and 6 orientations
    frames = _image(np.random.default_rng(orientations), "levels", (3, 47, 61), np.uint8)
    _assert_matches(
        frames,
        orientations=orientations,
        pixels_per_cell=(4, 5),
        cells_per_block=(2, 2),
        transform_sqrt=transform_sqrt,
    )


@pytest.mark.parametrize("value", [0, 1, 77, 255])
@pytest.mark.parametrize("block_norm", NORMS)
def test_constant_image(value, block_norm):
    frames = np.full((2, 64, 64), value, dtype=np.uint8)
    out = _assert_matches(
        frames, pixels_per_cell=(16, 16), cells_per_block=(2, 2), block_norm=block_norm
    )
    assert np.all(out == 0)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("orientations", [4, 8, 9])
def test_step_edges_and_ramps(axis, orientations):
    step = np.zeros((40, 40), np.uint8)
    step[:, 17:] = 200  # vertical edge: horizontal gradient, angle 0
    ramp = np.tile(np.arange(40, dtype=np.uint8) * 5, (40, 1))  # constant horizontal gradient
    frames = np.stack([step, ramp])
    if axis == 0:
        frames = frames.transpose(0, 2, 1)  # vertical gradients: angle exactly 90 degrees
    out = _assert_matches(
        frames, orientations=orientations, pixels_per_cell=(8, 8), cells_per_block=(1, 1)
    )
    assert out.max() > 0


@pytest.mark.parametrize("orientations", [4, 8, 12])
@pytest.mark.parametrize("flip", [False, True])
def test_diagonal_edges(orientations, flip):
    # gradients with |gc| == |gr|: 45 and 135 degrees, bin edges when orientations % 4 == 0
    yy, xx = np.mgrid[:48, :48]
    img = np.where(xx + (-yy if flip else yy) > (0 if flip else 47), 180, 20).astype(np.uint8)
    diag = ((xx + yy) * 3).astype(np.uint8)
    frames = np.stack([img, diag])
    _assert_matches(
        frames, orientations=orientations, pixels_per_cell=(6, 6), cells_per_block=(2, 2)
    )


def test_paper_defaults_and_odd_sizes():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 99, 131), dtype=np.uint8)
    out = _assert_matches(
        frames,
        orientations=8,
        pixels_per_cell=(32, 32),
        cells_per_block=(1, 1),
        block_norm="L2-Hys",
        transform_sqrt=True,
    )
    assert out.shape == (2, 3 * 4 * 8)
    assert np.array_equal(out, hog(frames))  # defaults are the paper's parameters


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.uint16, np.int16, np.int64])
def test_other_dtypes(dtype):
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 200, (2, 30, 27)).astype(dtype)
    if np.dtype(dtype).kind == "f":
        frames = frames / dtype(200)
    _assert_matches(frames, orientations=9, pixels_per_cell=(5, 4), cells_per_block=(2, 3))


def test_non_contiguous_crop_equals_copy():
    rng = np.random.default_rng(2)
    big = rng.integers(0, 256, (4, 70, 90), dtype=np.uint8)
    crop = big[::2, 5:60, 7:80]
    assert not crop.flags.c_contiguous
    out = hog(crop, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    assert np.array_equal(
        out, hog(np.ascontiguousarray(crop), pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    )
    _assert_matches(crop, pixels_per_cell=(8, 8), cells_per_block=(2, 2))


def test_n_jobs_gives_identical_result():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (13, 64, 80), dtype=np.uint8)
    params = {"pixels_per_cell": (8, 8), "cells_per_block": (2, 2)}
    one = hog(frames, n_jobs=1, **params)
    for n_jobs in (2, 3, -1, 50):
        assert np.array_equal(one, hog(frames, n_jobs=n_jobs, **params))


def test_empty_stack():
    out = hog(np.zeros((0, 64, 64), np.uint8), pixels_per_cell=(16, 16))
    assert out.shape == (0, 4 * 4 * 8)
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("shape", "ppc", "cpb"),
    [((64, 64), (32, 32), (1, 1)), ((99, 131), (8, 16), (3, 2)), ((5, 7), (1, 2), (2, 1))],
)
def test_hog_shape_matches_skimage(shape, ppc, cpb):
    img = np.random.default_rng(4).integers(0, 256, shape).astype(np.uint8)
    ref = sk_hog(
        img, orientations=7, pixels_per_cell=ppc, cells_per_block=cpb, feature_vector=False
    )
    got = hog_shape(shape, orientations=7, pixels_per_cell=ppc, cells_per_block=cpb)
    assert got == ref.shape
    assert hog(img[None], orientations=7, pixels_per_cell=ppc, cells_per_block=cpb).shape == (
        1,
        int(np.prod(got)),
    )


# --- the kernel's assumptions, checked on this platform -------------------------------------


def test_atan_polynomial_error_bound():
    t = np.linspace(0.0, 1.0, 200_001)
    err = np.abs(np.array([atan_unit(v) for v in t[::50]]) - np.arctan(t[::50]))
    assert err.max() < ATAN_MAX_ERR
    assert edge_tolerance(8) > 8 / np.pi * ATAN_MAX_ERR


def test_exact_bin_follows_numpy_formula():
    # the kernel's exact path uses math.atan2; skimage uses numpy's arctan2: they must agree
    rng = np.random.default_rng(5)
    s = np.sqrt(np.arange(8.0))
    gc = np.concatenate([rng.standard_normal(3000), s[rng.integers(0, 8, 3000)] - 1.0])
    gr = np.concatenate([rng.standard_normal(3000), s[rng.integers(0, 8, 3000)] - 1.0])
    for n in (3, 6, 8, 9, 12, 18):
        edges = np.array([180.0 / n * i for i in range(n + 1)])
        o = np.rad2deg(np.arctan2(gr, gc)) % 180
        want = np.array(
            [np.flatnonzero((v >= edges[:-1]) & (v < edges[1:]))[:1].tolist() or [n] for v in o]
        ).ravel()
        got = np.array([exact_bin(a, b, edges, n) for a, b in zip(gc, gr, strict=True)])
        assert np.array_equal(got, want)


def test_special_directions_do_not_depend_on_magnitude():
    # special_bins assumes atan2 of axis and diagonal directions is magnitude independent
    g = np.concatenate([10.0 ** np.linspace(-300, 300, 601), np.sqrt(np.arange(1.0, 256.0))])
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0)):
        angles = np.arctan2(sy * g, sx * g)
        assert np.all(angles == angles[0])
    edges = np.array([180.0 / 8 * i for i in range(9)])
    assert special_bins(edges, 8).tolist() == [0.0, 2.0, 4.0, 6.0]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        (np.zeros((64, 64), np.uint8), r"frames\[None\]"),
        (np.zeros((1, 64, 64, 3), np.uint8), "3-D grayscale"),
        (np.zeros(64, np.uint8), "3-D grayscale"),
        (np.zeros((1, 64, 64), bool), "dtype bool"),
        (np.zeros((1, 64, 64), complex), "dtype complex"),
        (np.zeros((1, 64, 64), object), "dtype object"),
        (np.zeros((1, 20, 64), np.uint8), "too small"),
        (np.zeros((1, 64, 31), np.uint8), "need at least 32x32"),
    ],
)
def test_bad_frames(frames, match):
    with pytest.raises(InputError, match=match):
        hog(frames)


def test_ragged_frames():
    with pytest.raises(InputError, match="equal-sized frames"):
        hog([np.zeros((64, 64), np.uint8), np.zeros((32, 64), np.uint8)])


def test_smaller_than_one_block():
    with pytest.raises(InputError, match="need at least 48x32"):
        hog(np.zeros((1, 40, 40), np.uint8), pixels_per_cell=(16, 16), cells_per_block=(3, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite(bad, dtype):
    frames = np.ones((3, 40, 40), dtype)
    frames[2, 39, 39] = bad
    with pytest.raises(InputError, match="frame 2 holds NaN or infinite"):
        hog(frames, pixels_per_cell=(8, 8))


def test_negative_with_sqrt():
    frames = np.ones((2, 40, 40))
    frames[1, 3, 3] = -0.5
    with pytest.raises(InputError, match="frame 1 holds negative values"):
        hog(frames, pixels_per_cell=(8, 8))
    with pytest.raises(InputError, match="negative"):
        hog((frames * 2).astype(np.int16), pixels_per_cell=(8, 8))
    ref = _reference(frames[1:], pixels_per_cell=(8, 8), transform_sqrt=False)[0]
    got = hog(frames, pixels_per_cell=(8, 8), transform_sqrt=False)[1]
    assert np.max(np.abs(got - ref)) <= TOL


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"orientations": 0}, "orientations must be an integer >= 1"),
        ({"orientations": -3}, "got -3"),
        ({"orientations": 8.0}, "orientations"),
        ({"orientations": True}, "orientations"),
        ({"pixels_per_cell": (0, 8)}, r"pixels_per_cell .*got \(0, 8\)"),
        ({"pixels_per_cell": (8, -1)}, "pixels_per_cell"),
        ({"pixels_per_cell": 8}, "pixels_per_cell"),
        ({"pixels_per_cell": (8, 8, 8)}, "pixels_per_cell"),
        ({"pixels_per_cell": (8.5, 8)}, "pixels_per_cell"),
        ({"cells_per_block": (1, 0)}, "cells_per_block"),
        ({"block_norm": "L3"}, "block_norm must be one of .*'L3'"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"n_jobs": 1.5}, "n_jobs"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(InputError, match=match):
        hog(np.zeros((1, 64, 64), np.uint8), **params)


def test_hog_shape_bad_input():
    with pytest.raises(InputError, match="too small"):
        hog_shape((31, 64))
    with pytest.raises(InputError, match="image_shape"):
        hog_shape((64,))
    with pytest.raises(InputError, match="orientations"):
        hog_shape((64, 64), orientations=0)


def test_bench_hog_rows():
    from mouseface.features.hog_bench import bench_hog

    frames = np.random.default_rng(6).integers(0, 256, (3, 64, 96), dtype=np.uint8)
    rows = bench_hog({"64x96": frames}, repeats=1)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {
        "size",
        "n_frames",
        "skimage_fps",
        "mouseface_fps",
        "mouseface_fps_parallel",
        "ratio",
        "max_abs_diff",
    }
    assert row["size"] == "64x96"
    assert row["n_frames"] == 3
    assert row["skimage_fps"] > 0
    assert row["mouseface_fps"] > 0
    assert row["ratio"] == pytest.approx(row["mouseface_fps"] / row["skimage_fps"])
    assert row["max_abs_diff"] <= TOL
    with pytest.raises(InputError, match="non-empty"):
        bench_hog({"empty": frames[:0]})
