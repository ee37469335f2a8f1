"""Streaming extraction of the video feature sets (HOG, cell flow) into a feature store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import write_video
from mouseface.errors import InputError
from mouseface.features.extract import extract_features
from mouseface.features.flow import cell_flow, flow_reference
from mouseface.features.hog import hog
from mouseface.io.feature_store import open_features, open_store
from mouseface.io.video import VideoReader


def _face_video(path: Path, n: int = 40) -> Path:
    """A textured face-like patch that drifts right by up to 3 px, then back."""
    rng = np.random.default_rng(3)
    tex = (rng.random((80, 120)) * 255).astype(np.float32)
    import cv2

    tex = cv2.GaussianBlur(tex, (0, 0), 2.0)
    tex = cv2.normalize(tex, None, 30, 220, cv2.NORM_MINMAX)
    frames = []
    for i in range(n):
        shift = 3.0 * np.sin(np.pi * i / (n - 1))
        m = np.float32([[1, 0, shift], [0, 1, 0]])
        frames.append(cv2.warpAffine(tex, m, (120, 80), borderMode=cv2.BORDER_REFLECT))
    return write_video(path, np.clip(np.stack(frames), 0, 255).astype(np.uint8))


def test_hog_and_flow_are_stored_side_by_side(tmp_path: Path):
    video = _face_video(tmp_path / "v.mp4")
    params = {"orientations": 8, "pixels_per_cell": (16, 16), "cells_per_block": (1, 1)}
    flow_params = {"cell": 16, "sigma": 1.5, "reference_frames": 4, "head": True, "weight": 0.1}
    res = extract_features(
        video, tmp_path / "f.zarr", hog_params=params, feature_sets=["hog", "flow"],
        flow_params=flow_params, chunk_size=16,
    )  # fmt: skip
    assert res.n_features == {"hog": 5 * 7 * 8, "flow": 5 * 7 * 2}
    g = open_store(tmp_path / "f.zarr")
    assert g.attrs["feature_sets"] == ["hog", "flow"]
    assert g.attrs["feature_weights"] == {"hog": 1.0, "flow": 0.1}
    assert g["hog"].shape == (40, 280) and g["flow"].shape == (40, 70)
    # the stored arrays are the kernels' output on the decoded frames
    frames = np.concatenate([c.frames for c in VideoReader(video).chunks(warn=False)])
    np.testing.assert_allclose(g["hog"][:], hog(frames, **params), atol=1e-6)
    ref = flow_reference(np.median(frames[:4], axis=0), cell=16, sigma=1.5)
    np.testing.assert_allclose(g["flow"][:], cell_flow(frames, ref), atol=1e-4)
    # the drift reads as horizontal movement of the cells: largest mid-video, near 0 at the ends
    dx = g["flow"][:, 0::2].mean(axis=1)
    assert dx[20] > 1.5 and abs(dx[0]) < 0.5 and abs(dx[-1]) < 0.6
    m = open_features(tmp_path / "f.zarr")
    assert m.shape == (40, 350)
    np.testing.assert_allclose(m[:][:, 280:], 0.1 * g["flow"][:], rtol=1e-6)
    # by default the head's movement is removed: the same drift then reads as no movement
    extract_features(
        video, tmp_path / "g.zarr", hog_params=params, feature_sets=["flow"],
        flow_params={**flow_params, "head": False}, chunk_size=16,
    )  # fmt: skip
    still = open_store(tmp_path / "g.zarr")["flow"][:]
    np.testing.assert_allclose(still, cell_flow(frames, ref, head=False), atol=1e-4)
    assert np.abs(still[:, 0::2].mean(axis=1)).max() < 0.2


def test_a_face_too_small_for_the_cells_is_named_with_the_fix(tmp_path: Path):
    video = _face_video(tmp_path / "v.mp4", n=5)
    with pytest.raises(InputError, match=r"v\.mp4.*120x80.*flow cells.*flow\.cell"):
        extract_features(
            video, tmp_path / "f.zarr", feature_sets=["flow"], flow_params={"cell": 48}
        )
    with pytest.raises(InputError, match=r"too small for the HOG cells.*pixels_per_cell"):
        extract_features(video, tmp_path / "g.zarr", hog_params={"pixels_per_cell": (100, 100)})
    assert not (tmp_path / "f.zarr").exists() and not (tmp_path / "g.zarr").exists()
    with pytest.raises(InputError, match="cannot compute feature sets"):
        extract_features(video, tmp_path / "h.zarr", feature_sets=["keypoints"])
