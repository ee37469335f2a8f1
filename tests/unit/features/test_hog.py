"""mouseface.features.hog against skimage.feature.hog, on synthetic images."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.feature import hog as sk_hog

from mouseface.errors import InputError
from mouseface.features import hog, hog_shape
from mouseface.features._hog_kernel import (
    ATAN_MAX_ERR,
    TIE_BAND_DEG,
    atan_unit,
    edge_tolerance,
    exact_bin,
    exact_orientation,
    near_edge,
    numpy_bins,
    special_bins,
)

hog_module = importlib.import_module("mouseface.features.hog")  # the package exports the function

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


def test_tie_example_found_by_hypothesis():
    # values {0, 28, 56} under sqrt: gradients (sqrt(28) - sqrt(56), -sqrt(28)) at exactly
    # 67.5 degrees; with libm's atan2 the kernel put them in bin 2, skimage (SVML) in bin 3
    frames = _image(np.random.default_rng(0), "steps", (2, 10, 10), np.uint8)
    assert set(np.unique(frames)) == {0, 28, 56}
    for dtype in (np.uint8, np.float64):
        _assert_matches(
            frames.astype(dtype),
            orientations=8,
            pixels_per_cell=(1, 1),
            cells_per_block=(1, 1),
            block_norm="L1",
            transform_sqrt=True,
        )


def _tie_frames():
    """Frames whose pixels (1, 3j + 1) have gradients at exactly 22.5, 67.5, 112.5, 157.5 deg.

    With values ``{0, k, 2k}`` under the square root, one gradient component is
    ``+-sqrt(k) * (sqrt(2) - 1)`` and the other ``+-sqrt(k)``: all sign and axis variants, for
    several ``k``. Returns the frames (2, 3, 3 * m) uint8 (the second frame mirrored) and the
    centre pixels' (gc, gr) after the square root.
    """
    cols, grads = [], []
    for k in (1, 2, 4, 9, 25, 28, 50, 100, 121, 127):
        small = ((2 * k, k), (k, 2 * k))  # (right, left) or (down, up) giving -+sqrt(k)(sqrt2-1)
        big = ((k, 0), (0, k))
        for col_pair, row_pair in [(a, b) for a in small for b in big] + [
            (a, b) for a in big for b in small
        ]:
            block = np.zeros((3, 3), int)
            block[1, 2], block[1, 0] = col_pair
            block[2, 1], block[0, 1] = row_pair
            cols.append(block)
            s = np.sqrt(np.array([*col_pair, *row_pair], float))
            grads.append((s[0] - s[1], s[2] - s[3]))
    img = np.concatenate(cols, axis=1).astype(np.uint8)
    return np.stack([img, img[::-1, ::-1]]), np.array(grads)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
@pytest.mark.parametrize("block_norm", ["L1", "L2-Hys"])
def test_ties_at_all_eighth_turns(dtype, block_norm):
    frames, grads = _tie_frames()
    o = np.rad2deg(np.arctan2(grads[:, 1], grads[:, 0])) % 180
    assert np.allclose(np.sort(np.unique(np.round(o, 9))), [22.5, 67.5, 112.5, 157.5])
    _assert_matches(
        frames.astype(dtype),
        orientations=8,
        pixels_per_cell=(1, 1),
        cells_per_block=(1, 1),
        block_norm=block_norm,
        transform_sqrt=True,
    )


@pytest.mark.parametrize("direction", [np.inf, -np.inf])
def test_ties_follow_numpy_arctan2_whatever_it_returns(monkeypatch, direction):
    # Make np.arctan2 3 ulps off libm on every CPU (as SVML is on some): skimage and our
    # tie resolution both see the changed function, so the results must still agree, and the
    # tie pixels must really land in other bins than libm's (the override path runs).
    frames, grads = _tie_frames()
    edges = _edges(8)
    libm = np.array([exact_bin(a, b, edges, 8) for a, b in grads])
    arctan2 = np.arctan2

    def nudged(y, x):
        out = arctan2(y, x)
        for _ in range(3):
            out = np.nextafter(out, direction)
        return out

    monkeypatch.setattr(np, "arctan2", nudged)
    assert np.any(numpy_bins(grads[:, 0], grads[:, 1], edges) != libm)
    _assert_matches(
        frames,
        orientations=8,
        pixels_per_cell=(1, 1),
        cells_per_block=(1, 1),
        block_norm="L1",
        transform_sqrt=True,
    )
    # a frame with more ties than the record buffer holds is redone with room for all
    monkeypatch.setattr(hog_module, "TIE_CAPACITY", 1)
    _assert_matches(frames, orientations=8, pixels_per_cell=(2, 3), cells_per_block=(1, 2))


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


def _edges(n):
    return np.array([180.0 / n * i for i in range(n + 1)])


def _loop_bins(o, edges):
    """scikit-image's bin test (``edges[i] <= o < edges[i + 1]``), ``n`` for no bin."""
    n = edges.size - 1
    return np.array(
        [np.flatnonzero((v >= edges[:-1]) & (v < edges[1:]))[:1].tolist() or [n] for v in o]
    ).ravel()


def _gradients():
    rng = np.random.default_rng(5)
    s = np.sqrt(np.arange(8.0))
    gc = np.concatenate([rng.standard_normal(3000), s[rng.integers(0, 8, 3000)] - 1.0])
    gr = np.concatenate([rng.standard_normal(3000), s[rng.integers(0, 8, 3000)] - 1.0])
    return gc, gr


def test_numpy_bins_is_skimage_formula():
    gc, gr = _gradients()
    o = np.rad2deg(np.arctan2(gr, gc)) % 180
    for n in (3, 6, 8, 9, 12, 18):
        edges = _edges(n)
        assert np.array_equal(numpy_bins(gc, gr, edges), _loop_bins(o, edges))


def test_libm_and_numpy_atan2_differ_only_at_ties():
    # The kernel's exact path uses libm's atan2 (math.atan2); skimage uses np.arctan2, which
    # numpy 2.x computes with SVML on AVX-512 CPUs: results may differ by an ulp or so. The
    # kernel hands every pixel within TIE_BAND_DEG of an edge to numpy_bins; away from the
    # edges the two must give the same bin, and the difference must be far inside the band.
    gc, gr = _gradients()
    o_np = np.rad2deg(np.arctan2(gr, gc)) % 180
    o_libm = np.array([exact_orientation(a, b) for a, b in zip(gc, gr, strict=True)])
    gap = np.abs(o_np - o_libm)
    gap = np.minimum(gap, 180.0 - gap)  # 179.99999999999997 vs 0.0 is a gap of one ulp
    assert gap.max() < TIE_BAND_DEG / 100
    for n in (3, 6, 8, 9, 12, 18):
        edges = _edges(n)
        want = _loop_bins(o_np, edges)
        got = np.array([exact_bin(a, b, edges, n) for a, b in zip(gc, gr, strict=True)])
        tie = np.array([near_edge(m, edges, n) for m in o_libm])
        assert np.array_equal(got[~tie], want[~tie])
        assert np.array_equal(numpy_bins(gc[tie], gr[tie], edges), want[tie])


def test_tie_of_the_brief_is_flagged():
    # gr / gc = 1 + sqrt(2): exactly 67.5 degrees. On AVX-512 numpy returns 67.5, libm
    # 67.49999999999999 (bins 3 and 2 of 8); other CPUs may agree. Either way the kernel must
    # flag it and numpy_bins must give numpy's bin.
    gc, gr = 10.0 - np.sqrt(200.0), -10.0
    edges = _edges(8)
    o_np = float(np.rad2deg(np.arctan2(gr, gc)) % 180)
    o_libm = exact_orientation(gc, gr)
    assert abs(o_np - 67.5) < 1e-13
    assert abs(o_libm - 67.5) < 1e-13
    assert near_edge(o_libm, edges, 8)
    assert not near_edge(67.5 + 1e-6, edges, 8)
    assert numpy_bins(np.array([gc]), np.array([gr]), edges)[0] == (3 if o_np >= 67.5 else 2)
    assert exact_bin(gc, gr, edges, 8) == (3 if o_libm >= 67.5 else 2)


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
