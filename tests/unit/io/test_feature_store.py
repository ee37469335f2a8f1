"""Reading a feature store: HOG in row blocks and at frame indices, per-frame series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from mouseface.io.feature_store import iter_hog, iter_rows, open_hog, read_rows, read_series


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
