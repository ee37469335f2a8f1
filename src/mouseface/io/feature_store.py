"""Read a session's feature store (``features.zarr``): HOG rows in blocks or at indices, and the
per-frame series and metadata written beside them.

The store is written by :func:`mouseface.features.extract.extract_features`. HOG of an hour-long
video does not fit in memory, so it is read in row blocks (:func:`iter_hog`) or at sorted frame
indices (:func:`read_rows`), never whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

__all__ = [
    "ROWS",
    "HogSource",
    "StoreSeries",
    "open_store",
    "open_hog",
    "iter_hog",
    "read_rows",
    "iter_rows",
    "read_series",
]

ROWS = 8192
"""Rows read at a time (float32 HOG of a 384-px face: 8192 rows are about 150 MB)."""

HogSource = str | Path | zarr.Array | np.ndarray
"""A feature store folder, its lazy ``hog`` array, or HOG in memory, shape (n_frames, d)."""


def open_store(store: str | Path) -> zarr.Group:
    """The feature store's zarr group, read-only."""
    return zarr.open_group(str(store), mode="r")


def open_hog(hog: HogSource) -> zarr.Array | np.ndarray:
    """The HOG array of ``hog``: a store folder's lazy ``hog`` array, or ``hog`` itself."""
    if isinstance(hog, str | Path):
        return open_store(hog)["hog"]
    return hog


def iter_hog(hog: HogSource, *, rows: int = ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, hog[start:start + rows])`` over every frame, in order.

    Parameters
    ----------
    hog : path, zarr array or ndarray
        See :data:`HogSource`.
    rows : int
        Rows per block.

    Yields
    ------
    start : int
        Index of the block's first frame.
    block : ndarray of float32, shape (<= rows, d)
    """
    arr = open_hog(hog)
    for i in range(0, arr.shape[0], rows):
        yield i, np.asarray(arr[i : i + rows])


def read_rows(hog: HogSource, index: np.ndarray) -> np.ndarray:
    """HOG rows at sorted frame indices.

    Parameters
    ----------
    hog : path, zarr array or ndarray
        See :data:`HogSource`.
    index : array of int, shape (k,)
        Sorted frame indices.

    Returns
    -------
    ndarray, shape (k, d)
        float32 for a feature store (the dtype of ``hog`` for an ndarray).
    """
    arr = open_hog(hog)
    index = np.asarray(index, dtype=np.int64)
    if isinstance(arr, np.ndarray):
        return arr[index]
    if len(index) == 0:
        return np.zeros((0, arr.shape[1]), dtype=np.float32)
    return np.asarray(arr.get_orthogonal_selection((index, slice(None))))


def iter_rows(hog: HogSource, index: np.ndarray, *, rows: int = ROWS) -> Iterator[np.ndarray]:
    """Yield the HOG rows at sorted frame indices ``index``, at most ``rows`` at a time."""
    arr = open_hog(hog)
    index = np.asarray(index, dtype=np.int64)
    for i in range(0, len(index), rows):
        yield read_rows(arr, index[i : i + rows])


@dataclass(frozen=True)
class StoreSeries:
    """The per-frame series and metadata of a feature store (everything but HOG).

    Attributes
    ----------
    times : ndarray of float64, shape (n,)
        Frame times (s).
    motion : ndarray of float32, shape (n,)
        Mean absolute frame difference of the face crop.
    dark, saturated : ndarray of bool, shape (n,)
        Quality flags of the image.
    face_size : (int, int)
        (h, w) of the face crops HOG was computed on (px).
    decode_error : dict or None
        ``{"frame", "message"}`` when decoding the video stopped early.
    """

    times: np.ndarray
    motion: np.ndarray
    dark: np.ndarray
    saturated: np.ndarray
    face_size: tuple[int, int]
    decode_error: dict | None


def read_series(store: str | Path | zarr.Group) -> StoreSeries:
    """Read a feature store's per-frame series and metadata (see :class:`StoreSeries`)."""
    g = store if isinstance(store, zarr.Group) else open_store(store)
    return StoreSeries(
        times=g["time"][:],
        motion=g["motion"][:],
        dark=g["dark"][:],
        saturated=g["saturated"][:],
        face_size=tuple(g.attrs["face_size"]),
        decode_error=g.attrs.get("decode_error"),
    )
