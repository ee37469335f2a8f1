"""Atomic writers for every output format (temp file in the same folder, then ``os.replace``).

A crash or a bad input never leaves a half-written file under its final name, and an existing
output is only replaced once its successor is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "atomic_path",
    "atomic_dir",
    "write_text_atomic",
    "write_json_atomic",
    "write_parquet_atomic",
    "write_netcdf_atomic",
    "sha256_file",
]


@contextmanager
def atomic_path(path: str | Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it over ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # not mkstemp: its 0600 mode would make shared outputs unreadable to the group (the
    # umask applies to files made with open(..., "x"))
    tmp_path = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{suffix or '.tmp'}")
    tmp_path.open("xb").close()
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success swap it in for ``path``.

    Used for zarr stores. The old folder (if any) is removed only after the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically (non-JSON values are written with ``str``)."""
    return write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


def write_parquet_atomic(path: str | Path, df: pd.DataFrame) -> Path:
    """Write a DataFrame to Parquet (pyarrow, no index) atomically."""
    with atomic_path(path, suffix=".parquet") as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow")
    return Path(path)


def write_netcdf_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` (e.g. ``ds.to_netcdf``) and move the result to ``path``."""
    with atomic_path(path, suffix=".nc") as tmp:
        write(tmp)
    return Path(path)


def sha256_file(path: str | Path, *, block: int = 1 << 20) -> str:
    """SHA256 hex digest of a file (or, for a folder, of its sorted files' names and contents)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fh:
            while chunk := fh.read(block):
                h.update(chunk)
    return h.hexdigest()
