"""mouseface.face on real mouse videos: registration, stabilisation and automatic face ROI.

Frames are read with PyAV directly so that these tests depend only on mouseface.face.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.face import (
    Stabiliser,
    Transform,
    apply_transform,
    estimate_transform,
    propose_roi,
    save_roi_png,
)

# Eye of the mouse in trial_4_full.mp4 (662x324), found by looking at frame 0: x, y, w, h.
DER_EYE = (90, 118, 18, 16)
# Eye and snout of the close-up pupil video (800x480), from frame 0.
PUPIL_EYE = (270, 240, 140, 75)
PUPIL_SNOUT = (620, 260, 120, 80)


def _read_gray(path: Path, indices=None) -> np.ndarray:
    """Gray uint8 frames (n, h, w) of ``path``; all frames or those at ``indices``."""
    wanted = None if indices is None else set(int(i) for i in indices)
    frames = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if wanted is None or i in wanted:
                frames.append(frame.to_ndarray(format="gray"))
            if wanted is not None and i >= max(wanted):
                break
    return np.stack(frames)


@pytest.fixture(scope="module")
def pupil_frames(pupil_video: Path) -> np.ndarray:
    """Every 5th frame of the pupil video (150 frames, 480x800)."""
    return _read_gray(pupil_video, range(0, 749, 5))


@pytest.fixture(scope="module")
def der_frames(der_dir: Path) -> np.ndarray:
    """All 120 frames of trial_4_full.mp4 (324x662)."""
    return _read_gray(der_dir / "trial_4_full.mp4")


def _crop(img: np.ndarray, size: int = 320) -> np.ndarray:
    h, w = img.shape
    y0, x0 = (h - size) // 2, (w - size) // 2  # keeps the frame centre (800x480 -> even)
    return img[y0 : y0 + size, x0 : x0 + size]


def _inside(inner, outer) -> bool:
    xi, yi, wi, hi = inner
    xo, yo, wo, ho = outer
    return xo <= xi and yo <= yi and xi + wi <= xo + wo and yi + hi <= yo + ho


# ------------------------------------------------------------------------ registration
@pytest.mark.parametrize(
    "true",
    [
        Transform(dy=20.0, dx=-20.0),
        Transform(dy=-6.6, dx=13.3, rotation=10.0, scale=1.0),
        Transform(dy=11.0, dx=4.5, rotation=-10.0, scale=0.9),
        Transform(dy=-15.0, dx=-9.25, rotation=4.0, scale=1.1),
        Transform(dy=3.0, dx=17.0, rotation=30.0, scale=0.95),
        Transform(dy=0.3, dx=-0.6, rotation=-0.4, scale=1.01),
    ],
)
def test_estimate_recovers_known_transform_on_real_face(pupil_frames, true):
    frame = pupil_frames[20]
    reference = _crop(apply_transform(frame, true))
    est = estimate_transform(_crop(frame), reference)
    assert abs(est.dy - true.dy) <= 0.5 and abs(est.dx - true.dx) <= 0.5, est
    assert abs(est.rotation - true.rotation) <= 0.5, est
    assert abs(est.scale / true.scale - 1) <= 0.01, est
    assert est.score > 0.95


def test_estimate_across_frames_of_the_same_face(pupil_frames):
    """Another frame (natural face motion) still aligns with a high score."""
    true = Transform(dy=-8.0, dx=11.0, rotation=7.0, scale=1.05)
    reference = _crop(apply_transform(pupil_frames[20], true))
    est = estimate_transform(_crop(pupil_frames[22]), reference)
    assert abs(est.rotation - true.rotation) < 1.5
    assert abs(est.scale / true.scale - 1) < 0.03
    assert est.score > 0.85


def test_estimate_rejects_face_from_another_video(pupil_frames, der_frames):
    der_face = cv2.resize(der_frames[0][60:260, 0:250], (320, 320))
    with pytest.raises(InputError, match="NCC score"):
        estimate_transform(der_face, _crop(pupil_frames[0]))


# ----------------------------------------------------------------------- stabilisation
def _shift(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    m = np.float64([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        img,
        m,
        (img.shape[1], img.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


@pytest.fixture(scope="module")
def small_pupil(pupil_frames) -> np.ndarray:
    """Pupil frames at 240x320, the stabiliser's benchmark size."""
    return np.stack([cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in pupil_frames])


def test_stabiliser_recovers_known_shifts_on_real_frame(small_pupil):
    ref = small_pupil[10]
    jitter = np.array([[4, -3], [-9, 12], [15, 0], [0.5, -0.5], [2.25, 7.75], [-6.4, -13.3]])
    frames = np.stack([_shift(ref, dy, dx) for dy, dx in jitter])
    _, shifts = Stabiliser(ref, max_shift=20).transform(frames)
    np.testing.assert_allclose(shifts, -jitter, atol=0.5)


def test_stabiliser_recovers_jitter_added_to_real_frames(small_pupil):
    """Jitter added to later frames is recovered relative to their own (natural) offset."""
    stab = Stabiliser(small_pupil[10], max_shift=20)
    frames = small_pupil[10:20]
    rng = np.random.default_rng(0)
    jitter = rng.uniform(-10, 10, (len(frames), 2))
    jitter[::2] = np.round(jitter[::2])  # half integer, half sub-pixel
    jittered = np.stack([_shift(f, dy, dx) for f, (dy, dx) in zip(frames, jitter, strict=True)])
    base = stab.shifts(frames)
    aligned, shifts = stab.transform(jittered)
    np.testing.assert_allclose(shifts - base, -jitter, atol=0.5)
    inner = np.s_[:, 20:-20, 20:-20]
    before = np.abs(jittered[inner].astype(int) - small_pupil[10][None][inner].astype(int)).mean()
    after = np.abs(aligned[inner].astype(int) - small_pupil[10][None][inner].astype(int)).mean()
    assert after < 0.5 * before


# ------------------------------------------------------------------------- propose_roi
def test_propose_roi_close_up_face_covers_the_face(pupil_frames, tmp_path):
    sample = pupil_frames[:: max(1, len(pupil_frames) // 100)]
    roi = propose_roi(sample)
    x, y, w, h = roi
    assert x >= 0 and y >= 0 and x + w <= 800 and y + h <= 480
    assert w % 2 == 0 and h % 2 == 0
    assert _inside(PUPIL_EYE, roi) and _inside(PUPIL_SNOUT, roi)
    assert w * h > 0.6 * 800 * 480  # the face fills most of this close-up
    save_roi_png(tmp_path / "roi.png", pupil_frames[0], roi)
    assert cv2.imread(str(tmp_path / "roi.png")).shape == (480, 800, 3)


def test_propose_roi_side_view_contains_the_eye(der_frames):
    sample = der_frames[np.linspace(0, len(der_frames) - 1, 100).astype(int)]
    roi = propose_roi(sample)
    x, y, w, h = roi
    assert x >= 0 and y >= 0 and x + w <= 662 and y + h <= 324
    assert _inside(DER_EYE, roi)
    assert y > 20  # the head-fixation rig at the top is left out
    assert w * h < 0.85 * 662 * 324


def test_propose_roi_side_view_before_stimulus_contains_the_eye(der_frames):
    """Only the quiet baseline (before the shock on frame 60): little motion."""
    roi = propose_roi(der_frames[:58])
    assert _inside(DER_EYE, roi)
    assert roi[2] * roi[3] < 0.85 * 662 * 324
