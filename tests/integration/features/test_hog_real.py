"""mouseface.features.hog against skimage.feature.hog on real mouse-face video frames."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage.feature import hog as sk_hog

from mouseface.features import hog

PAPER = {
    "orientations": 8,
    "pixels_per_cell": (32, 32),
    "cells_per_block": (1, 1),
    "block_norm": "L2-Hys",
    "transform_sqrt": True,
}


def _read_gray(path: Path, n: int, step: int = 1) -> np.ndarray:
    frames = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % step == 0:
                frames.append(frame.to_ndarray(format="gray"))
            if len(frames) == n:
                break
    return np.stack(frames)


def _max_diff(frames: np.ndarray, **params) -> float:
    ours = hog(frames, **params)
    ref = np.stack([sk_hog(f, feature_vector=True, **params) for f in frames])
    assert ours.shape == ref.shape
    return float(np.max(np.abs(ours.astype(np.float64) - ref)))


@pytest.fixture(scope="module")
def pupil_frames(pupil_video: Path) -> np.ndarray:
    frames = _read_gray(pupil_video, 20, step=30)  # spread over the whole video
    assert frames.shape == (20, 480, 800)
    return frames


def test_pupil_full_frames_paper_params(pupil_frames):
    assert _max_diff(pupil_frames, **PAPER) <= 1e-5


def test_pupil_crops_and_resizes(pupil_frames):
    crop = pupil_frames[:, 37:437, 101:700]  # odd offsets, non-contiguous, remainder pixels
    assert _max_diff(crop, **PAPER) <= 1e-5
    small = np.stack(
        [
            cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA)
            for f in pupil_frames[:, :, 80:720]
        ]
    )
    assert _max_diff(small, **PAPER) <= 1e-5


@pytest.mark.parametrize(
    "params",
    [
        {
            "orientations": 9,
            "pixels_per_cell": (8, 8),
            "cells_per_block": (3, 3),
            "block_norm": "L1",
            "transform_sqrt": False,
        },
        {
            "orientations": 12,
            "pixels_per_cell": (16, 12),
            "cells_per_block": (2, 2),
            "block_norm": "L2",
            "transform_sqrt": True,
        },
        {
            "orientations": 6,
            "pixels_per_cell": (7, 9),
            "cells_per_block": (1, 2),
            "block_norm": "L1-sqrt",
            "transform_sqrt": True,
        },
    ],
)
def test_pupil_other_params(pupil_frames, params):
    assert _max_diff(pupil_frames[:5, :200, 300:600], **params) <= 1e-5


def test_pupil_float_frames(pupil_frames):
    frames = pupil_frames[:4, 100:300, 200:500]
    assert _max_diff(frames.astype(np.float32) / 255, **PAPER) <= 1e-5
    assert _max_diff(frames.astype(np.float64), **PAPER) <= 1e-5


def test_der_mosaic_paper_params(der_dir: Path):
    video = sorted(der_dir.glob("*-der.mp4"))[0]
    frames = _read_gray(video, 10, step=10)
    assert frames.shape[1:] == (700, 1400)
    assert _max_diff(frames, **PAPER) <= 1e-5
    tiles = frames[:, 140:280, 233:466]  # one 233x140 trial tile
    assert _max_diff(tiles, **PAPER) <= 1e-5
    assert _max_diff(tiles, **{**PAPER, "pixels_per_cell": (16, 16)}) <= 1e-5


def test_parallel_equals_serial_on_real_frames(pupil_frames):
    assert np.array_equal(hog(pupil_frames, n_jobs=1), hog(pupil_frames, n_jobs=-1))


def test_pupil_benchmark_frames(pupil_video: Path):
    from mouseface.features.hog_bench import pupil_benchmark_frames

    sizes = pupil_benchmark_frames(pupil_video, n_frames=3)
    assert sizes["480x640"].shape == (3, 480, 640)
    assert sizes["240x320"].shape == (3, 240, 320)
    assert sizes["480x640"].dtype == np.uint8
    assert sizes["480x640"].std() > 1  # a real picture, not a blank frame
