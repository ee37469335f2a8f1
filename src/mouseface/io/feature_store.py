"""Read a session's feature store (``features.zarr``): feature rows in blocks or at indices, and
the per-frame series and metadata written beside them.

The store is written by :func:`mouseface.features.extract.extract_features`. It holds one array
per feature set (``hog``, ``flow``, ``keypoints``); its ``feature_sets`` attribute lists the sets
that make up a frame's feature vector, in order, and ``feature_weights`` the factor of each.
:func:`open_features` gives that stacked vector as one lazy 2-D matrix
(:class:`FeatureMatrix`), which every consumer (neutral face, prototypes, strength, decoders,
library) reads, so a run on ``features: [hog, flow]`` needs no other change. Features of an
hour-long video do not fit in memory, so they are read in row blocks (:func:`iter_hog`) or at
sorted frame indices (:func:`read_rows`), never whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from mouseface.errors import InputError

__all__ = [
    "ROWS",
    "HogSource",
    "FeatureMatrix",
    "StoreSeries",
    "open_store",
    "open_features",
    "open_hog",
    "store_feature_sets",
    "iter_hog",
    "read_rows",
    "iter_rows",
    "read_series",
]

ROWS = 8192
"""Rows read at a time (float32 HOG of a 384-px face: 8192 rows are about 150 MB)."""


class FeatureMatrix:
    """Feature sets of a store stacked side by side, each times its weight, read lazily.

    Behaves like the 2-D arrays the readers take: ``shape``, ``dtype``, ``len``, row slices
    ``m[a:b]`` and ``get_orthogonal_selection((rows, slice(None)))``.

    Parameters
    ----------
    parts : sequence of (name, zarr.Array, float)
        Feature set name, its array (n_frames, d_k) and weight.
    """

    def __init__(self, parts: Sequence[tuple[str, zarr.Array, float]]) -> None:
        if not parts:
            raise ValueError("FeatureMatrix needs at least one feature set")
        n = {int(a.shape[0]) for _, a, _ in parts}
        if len(n) != 1:
            raise ValueError(f"feature sets have different frame counts: {sorted(n)}")
        self.parts = tuple(parts)
        self.names = tuple(name for name, _, _ in parts)
        self.shape = (n.pop(), sum(int(a.shape[1]) for _, a, _ in parts))
        self.dtype = np.dtype(np.float32)
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def slices(self) -> dict[str, slice]:
        """Columns of each feature set in the stacked vector."""
        out, start = {}, 0
        for name, a, _ in self.parts:
            out[name] = slice(start, start + int(a.shape[1]))
            start += int(a.shape[1])
        return out

    def _stack(self, blocks: list[np.ndarray]) -> np.ndarray:
        out = [
            np.asarray(b, dtype=np.float32) * np.float32(w) if w != 1.0 else np.asarray(b)
            for b, (_, _, w) in zip(blocks, self.parts, strict=True)
        ]
        return out[0].astype(np.float32, copy=False) if len(out) == 1 else np.hstack(out)

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice):
            raise TypeError("FeatureMatrix takes row slices; use get_orthogonal_selection")
        return self._stack([a[key] for _, a, _ in self.parts])

    def get_orthogonal_selection(self, selection: tuple) -> np.ndarray:
        """Rows at integer indices: ``selection = (rows, slice(None))``."""
        rows = selection[0]
        return self._stack(
            [a.get_orthogonal_selection((rows, slice(None))) for _, a, _ in self.parts]
        )


HogSource = str | Path | zarr.Array | np.ndarray | FeatureMatrix
"""A feature store folder, its lazy feature matrix or one array, or features in memory, shape
(n_frames, d)."""


def open_store(store: str | Path) -> zarr.Group:
    """The feature store's zarr group, read-only."""
    return zarr.open_group(str(store), mode="r")


def store_feature_sets(g: zarr.Group) -> list[str]:
    """The feature sets a store's frame vectors are made of (``["hog"]`` for older stores)."""
    return list(g.attrs.get("feature_sets") or ["hog"])


def open_features(
    store: str | Path | zarr.Group, sets: Sequence[str] | None = None
) -> FeatureMatrix:
    """The store's frame feature vectors: its feature sets stacked, lazily.

    Parameters
    ----------
    store : path or zarr.Group
        A ``features.zarr`` folder.
    sets : sequence of str, optional
        Feature sets to stack, in order; default: the store's own ``feature_sets``.

    Returns
    -------
    FeatureMatrix
        Shape (n_frames, sum of the sets' columns), float32.

    Raises
    ------
    InputError
        If the store lacks a named set (the run did not compute it).
    """
    g = store if isinstance(store, zarr.Group) else open_store(store)
    names = list(sets) if sets is not None else store_feature_sets(g)
    weights = dict(g.attrs.get("feature_weights") or {})
    missing = [n for n in names if n not in g]
    if missing:
        where = store if not isinstance(store, zarr.Group) else "feature store"
        raise InputError(
            f"{where}: feature set(s) {missing} were not computed by this run (it has "
            f"{store_feature_sets(g)}); add them to the config's 'features' list (e.g. "
            f"features: {names}) and rerun 'mouseface run'"
        )
    return FeatureMatrix([(n, g[n], float(weights.get(n, 1.0))) for n in names])


def open_hog(hog: HogSource) -> FeatureMatrix | zarr.Array | np.ndarray:
    """The feature matrix of ``hog``: a store folder's stacked features, or ``hog`` itself."""
    if isinstance(hog, str | Path):
        return open_features(hog)
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
