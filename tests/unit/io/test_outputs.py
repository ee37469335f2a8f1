from __future__ import annotations

import pandas as pd
import pytest

from mouseface.io.outputs import atomic_dir, atomic_path, sha256_file, write_parquet_atomic


def test_failed_write_keeps_previous_file(tmp_path):
    target = tmp_path / "t.parquet"
    write_parquet_atomic(target, pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash")
    assert pd.read_parquet(target)["a"].tolist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]  # no temp left behind


def test_atomic_dir_swaps_only_when_complete(tmp_path):
    target = tmp_path / "store"
    with atomic_dir(target) as tmp:
        (tmp / "x").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "x").write_text("2")
        raise RuntimeError("crash")
    assert (target / "x").read_text() == "1"
    with atomic_dir(target) as tmp:
        (tmp / "x").write_text("3")
    assert (target / "x").read_text() == "3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_sha256_of_file_and_folder(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    assert sha256_file(tmp_path / "a") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    h1 = sha256_file(tmp_path)
    (tmp_path / "a").write_bytes(b"abd")
    assert sha256_file(tmp_path) != h1


def test_outputs_respect_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        write_parquet_atomic(tmp_path / "t.parquet", pd.DataFrame({"a": [1]}))
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "t.parquet").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
