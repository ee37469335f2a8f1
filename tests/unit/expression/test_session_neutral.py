"""A session's neutral prototype: good baseline frames, read in blocks, same as one mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from mouseface.errors import InputError
from mouseface.expression.prototypes import neutral_prototype, session_neutral


@pytest.fixture
def hog(tmp_path: Path) -> zarr.Array:
    rng = np.random.default_rng(1)
    data = (rng.random((300, 40)) * rng.random(40) * 100).astype(np.float32)
    g = zarr.open_group(str(tmp_path / "f.zarr"), mode="w", zarr_format=2)
    return g.create_array("hog", data=data, chunks=(32, 40))


def test_equals_one_mean_of_the_good_baseline_rows_exactly(hog: zarr.Array):
    data = hog[:]
    base = np.zeros(300, bool)
    base[10:90] = base[150:260] = True
    good = np.arange(300) % 5 != 0
    expected = neutral_prototype(data, base & good)
    for rows in (1, 7, 64, 10_000):
        got = session_neutral(hog, base, good, rows=rows)
        assert got.dtype == np.float32 and got.shape == (40,)
        np.testing.assert_array_equal(got, expected)  # bit for bit, whatever the block size
    np.testing.assert_array_equal(session_neutral(data, base, good, rows=13), expected)


def test_all_baseline_frames_when_every_one_is_flagged(hog: zarr.Array):
    base = np.zeros(300, bool)
    base[:20] = True
    good = ~base
    np.testing.assert_array_equal(session_neutral(hog, base, good), neutral_prototype(hog[:20]))
    np.testing.assert_array_equal(session_neutral(hog, base), neutral_prototype(hog[:20]))


def test_no_baseline_frame_is_an_input_error(hog: zarr.Array):
    with pytest.raises(InputError, match="no baseline frames"):
        session_neutral(hog, np.zeros(300, bool), np.ones(300, bool))
