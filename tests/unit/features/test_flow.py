"""Cell flow: recovers known shifts (sub-pixel to many pixels), grows in proportion to a
movement, keeps a local movement local and ignores brightness offsets."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import fourier_shift, gaussian_filter

from mouseface.errors import InputError
from mouseface.features.flow import cell_flow, flow_reference, flow_shape


def _texture(seed: int = 0, shape=(96, 128)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.normal(0, 1, shape).astype(np.float32)
    img = gaussian_filter(img, 3.0, mode="wrap")
    img = (img - img.min()) / (img.max() - img.min()) * 200 + 20
    return img.astype(np.float32)


def _shift(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Exact sub-pixel shift of a smooth (band-limited) periodic texture."""
    spec = fourier_shift(np.fft.fft2(img), (dy, dx))
    return np.fft.ifft2(spec).real.astype(np.float32)


def _inner(flow: np.ndarray, ref) -> np.ndarray:
    """(cy-2, cx-2, 2) flow of the cells away from the border (no border effects)."""
    cy, cx = ref.cells
    return flow.reshape(cy, cx, 2)[1:-1, 1:-1]


@settings(max_examples=20, deadline=None)
@given(dx=st.floats(-1.5, 1.5), dy=st.floats(-1.5, 1.5), seed=st.integers(0, 50))
def test_recovers_a_small_global_shift(dx, dy, seed):
    img = _texture(seed)
    ref = flow_reference(img, cell=16)
    f = _inner(cell_flow(_shift(img, dx, dy), ref)[0], ref)
    assert np.median(f[..., 0]) == pytest.approx(dx, abs=0.12 + 0.1 * abs(dx))
    assert np.median(f[..., 1]) == pytest.approx(dy, abs=0.12 + 0.1 * abs(dy))


def test_linear_in_small_movements():
    img = _texture(3)
    ref = flow_reference(img, cell=16)
    amps = np.array([0.25, 0.5, 0.75, 1.0])
    reads = np.array(
        [np.median(_inner(cell_flow(_shift(img, a, 0), ref)[0], ref)[..., 0]) for a in amps]
    )
    slope, intercept = np.polyfit(amps, reads, 1)
    assert np.max(np.abs(reads - (slope * amps + intercept))) < 0.02  # straight line
    assert abs(intercept) < 0.03
    assert 0.8 < slope < 1.1


@pytest.mark.parametrize("shift", [4.0, 8.0, 12.0])
def test_recovers_a_shift_of_many_pixels(shift):
    # a facial action moves its cells by 10-25 px of the resized face: far beyond one
    # linearised step (the old one-step Lucas-Kanade read shifts of 4, 8 and 12 px as 2.3,
    # 0.8 and 0.4 px)
    img = _texture(7)
    ref = flow_reference(img, cell=16)
    f = _inner(cell_flow(_shift(img, shift, -shift / 2), ref)[0], ref)
    assert np.median(f[..., 0]) == pytest.approx(shift, rel=0.05)
    assert np.median(f[..., 1]) == pytest.approx(-shift / 2, rel=0.05)


def test_local_movement_stays_local_and_brightness_is_ignored():
    img = _texture(5)
    ref = flow_reference(img, cell=16)
    reads = []
    for a in (1.0, 3.0, 6.0):
        moved = img.copy()
        moved[32:64, 32:64] = _shift(img, 0.0, a)[32:64, 32:64]  # cells (2..3, 2..3) move down
        f = cell_flow(moved + 15.0, ref)[0].reshape(*ref.cells, 2)  # and the light gets brighter
        reads.append(f[2:4, 2:4, 1].mean())
        outside = np.ones(ref.cells, dtype=bool)
        outside[1:5, 1:5] = False
        assert np.abs(f[outside]).max() < 0.15
    # the dense flow spreads a block's movement over its border, so the moved cells read about
    # half of it, in proportion to the movement
    reads = np.array(reads)
    assert np.all(reads > 0.4 * np.array([1.0, 3.0, 6.0]))
    assert np.all(reads < 1.1 * np.array([1.0, 3.0, 6.0]))
    assert np.ptp(reads / np.array([1.0, 3.0, 6.0])) < 0.1


def test_textureless_cells_read_no_movement_and_shapes():
    img = np.full((64, 80), 100.0, dtype=np.float32)
    ref = flow_reference(img, cell=16)
    out = cell_flow(np.stack([img + 30, img]), ref)
    assert out.shape == (2, flow_shape(img.shape, cell=16)[2]) == (2, 4 * 5 * 2)
    assert out.dtype == np.float32
    assert np.abs(out).max() < 1e-3


def test_bad_input():
    with pytest.raises(InputError, match="no whole"):
        flow_reference(np.zeros((10, 10)), cell=16)
    with pytest.raises(InputError, match="cell must"):
        flow_reference(np.zeros((64, 64)), cell=2)
    ref = flow_reference(_texture(1), cell=16)
    with pytest.raises(InputError, match="do not match"):
        cell_flow(np.zeros((2, 10, 10)), ref)


def test_cell_flow_threads_give_the_same_numbers():
    rng = np.random.default_rng(5)
    frames = (rng.random((9, 48, 64)) * 255).astype(np.uint8)
    ref = flow_reference(frames[0].astype(float), cell=16)
    np.testing.assert_array_equal(cell_flow(frames, ref, n_jobs=3), cell_flow(frames, ref))
    np.testing.assert_array_equal(cell_flow(frames, ref, n_jobs=-1), cell_flow(frames, ref))


def test_head_movement_is_removed_and_the_face_movement_kept():
    img = _texture(9, shape=(128, 160))
    ref = flow_reference(img, cell=16)
    moved = _shift(img, 3.0, -2.0)  # the whole head shifts
    moved[48:80, 64:96] = _shift(img, 3.0, 1.0)[48:80, 64:96]  # and one part of the face moves down
    keep = cell_flow(moved, ref).reshape(*ref.cells, 2)
    face = cell_flow(moved, ref, head=False).reshape(*ref.cells, 2)
    assert np.median(keep[..., 0]) == pytest.approx(3.0, abs=0.2)  # the head's shift is read...
    assert np.median(np.abs(face[..., 0])) < 0.2  # ...and removed
    assert np.median(face[..., 1]) == pytest.approx(0.0, abs=0.3)
    assert face[3:5, 4:6, 1].mean() > 1.2  # the part still moves down against the rest
    # an affine field alone (shift + zoom) leaves nothing
    zoom = cv2.warpAffine(img, np.float32([[1.03, 0, -1.0], [0, 1.03, 2.0]]), img.shape[::-1],
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    assert np.abs(cell_flow(zoom, ref)).max() > 1.0
    assert np.median(np.abs(cell_flow(zoom, ref, head=False))) < 0.15


def test_head_removal_needs_two_by_two_cells():
    ref = flow_reference(_texture(1, shape=(16, 64)), cell=16)
    with pytest.raises(InputError, match="2 x 2 cells"):
        cell_flow(np.zeros((1, 16, 64)), ref, head=False)
