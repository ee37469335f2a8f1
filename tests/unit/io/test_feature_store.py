"""Reading a feature store: HOG in row blocks and at frame indices, per-frame series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from mouseface.errors import InputError
from mouseface.io.feature_store import (
    iter_hog,
    iter_rows,
    open_features,
    open_hog,
    open_store,
    read_rows,
    read_series,
    store_feature_sets,
)


def _store(path: Path, n: int = 50, d: int = 12) -> np.ndarray:
    rng = np.random.default_rng(0)
    hog = rng.random((n, d), dtype=np.float32)
    g = zarr.open_group(str(path), mode="w", zarr_format=2)
    g.create_array("hog", data=hog, chunks=(8, d))
    g.create_array("time", data=np.arange(n) / 20.0)
    g.create_array("motion", data=rng.random(n, dtype=np.float32))
    g.create_array("dark", data=np.arange(n) % 7 == 0)
    g.create_array("saturated", data=np.zeros(n, bool))
    g.attrs["face_size"] = [40, 60]
    return hog


def test_iter_hog_yields_every_row_in_order(tmp_path: Path):
    hog = _store(tmp_path / "f.zarr")
    blocks = list(iter_hog(tmp_path / "f.zarr", rows=9))
    assert [i for i, _ in blocks] == list(range(0, 50, 9))
    np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), hog)
    # an in-memory array gives the same blocks
    assert all(
        np.array_equal(a, b) for (_, a), (_, b) in zip(iter_hog(hog, rows=9), blocks, strict=True)
    )


def test_read_rows_matches_fancy_indexing(tmp_path: Path):
    hog = _store(tmp_path / "f.zarr")
    idx = np.array([0, 3, 4, 17, 49])
    for src in (tmp_path / "f.zarr", open_hog(tmp_path / "f.zarr"), hog):
        np.testing.assert_array_equal(read_rows(src, idx), hog[idx])
    empty = read_rows(tmp_path / "f.zarr", np.zeros(0, int))
    assert empty.shape == (0, 12) and empty.dtype == np.float32
    chunks = list(iter_rows(tmp_path / "f.zarr", idx, rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate(chunks), hog[idx])


def test_read_series(tmp_path: Path):
    _store(tmp_path / "f.zarr")
    s = read_series(tmp_path / "f.zarr")
    assert s.times.shape == (50,) and s.times[1] == 0.05
    assert s.face_size == (40, 60)
    assert s.decode_error is None
    assert s.dark.sum() == 8 and not s.saturated.any()


def _two_set_store(path: Path, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    hog = rng.random((n, 8), dtype=np.float32)
    flow = rng.normal(size=(n, 4)).astype(np.float32)
    g = zarr.open_group(str(path), mode="w", zarr_format=2)
    g.create_array("hog", data=hog, chunks=(7, 8))
    g.create_array("flow", data=flow, chunks=(5, 4))
    g.attrs["feature_sets"] = ["hog", "flow"]
    g.attrs["feature_weights"] = {"hog": 1.0, "flow": 0.5}
    return hog, flow


def test_open_features_stacks_sets_with_their_weights(tmp_path: Path):
    hog, flow = _two_set_store(tmp_path / "f.zarr")
    expect = np.hstack([hog, 0.5 * flow])
    m = open_features(tmp_path / "f.zarr")
    assert m.shape == (30, 12) and len(m) == 30 and m.dtype == np.float32
    assert m.slices() == {"hog": slice(0, 8), "flow": slice(8, 12)}
    np.testing.assert_allclose(m[3:11], expect[3:11], rtol=1e-6)
    idx = np.array([0, 2, 29])
    np.testing.assert_allclose(read_rows(tmp_path / "f.zarr", idx), expect[idx], rtol=1e-6)
    blocks = np.concatenate([b for _, b in iter_hog(tmp_path / "f.zarr", rows=4)])
    np.testing.assert_allclose(blocks, expect, rtol=1e-6)
    # one set only, named explicitly
    np.testing.assert_array_equal(open_features(tmp_path / "f.zarr", ["flow"])[:], 0.5 * flow)
    assert store_feature_sets(open_store(tmp_path / "f.zarr")) == ["hog", "flow"]


def test_a_set_the_run_did_not_compute_is_a_clear_error(tmp_path: Path):
    _store(tmp_path / "old.zarr")  # a store from before feature sets: hog only
    assert open_features(tmp_path / "old.zarr").names == ("hog",)
    with pytest.raises(
        InputError, match=r"\['flow'\] were not computed.*features: \['hog', 'flow'\]"
    ):
        open_features(tmp_path / "old.zarr", ["hog", "flow"])
