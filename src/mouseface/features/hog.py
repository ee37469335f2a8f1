"""Batch histogram of oriented gradients, equal to ``skimage.feature.hog`` frame by frame.

The paper (Dolensek et al., Science 2020) describes each face crop by
``skimage.feature.hog(crop, orientations=8, pixels_per_cell=(32, 32), cells_per_block=(1, 1),
transform_sqrt=True)``. :func:`hog` computes exactly that for a whole stack of frames in one
numba pass per frame -- 25-40x the frames/s of scikit-image on one core in
``benchmarks/bench_hog.py`` -- and can spread frames over threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np

from mouseface.errors import InputError
from mouseface.features._hog_kernel import (
    NORM_CODES,
    bin_coefficients,
    edge_tolerance,
    hog_batch,
    numpy_bins,
    special_bins,
)

__all__ = ["hog", "hog_shape"]

#: Tie records one kernel call keeps; a frame with more ties is redone with room for all.
TIE_CAPACITY = 4096
_NO_OVERRIDES = (np.empty(0, np.int64), np.empty(0, np.int32))


def _pair(value: object, name: str) -> tuple[int, int]:
    """Validate a (rows, cols) pair of positive integers."""
    try:
        a, b = value  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InputError(
            f"{name} must be a pair of positive integers (rows, cols); got {value!r}"
        ) from None
    for v in (a, b):
        if isinstance(v, bool | np.bool_) or not isinstance(v, Integral) or v < 1:
            raise InputError(
                f"{name} must be a pair of positive integers (rows, cols); got {value!r}"
            )
    return int(a), int(b)


def _check_params(
    orientations: object, pixels_per_cell: object, cells_per_block: object
) -> tuple[int, tuple[int, int], tuple[int, int]]:
    if (
        isinstance(orientations, bool | np.bool_)
        or not isinstance(orientations, Integral)
        or orientations < 1
    ):
        raise InputError(f"orientations must be an integer >= 1 (e.g. 8); got {orientations!r}")
    return (
        int(orientations),
        _pair(pixels_per_cell, "pixels_per_cell"),
        _pair(cells_per_block, "cells_per_block"),
    )


def _grid(
    image_shape: tuple[int, int], ppc: tuple[int, int], cpb: tuple[int, int]
) -> tuple[int, int]:
    """Number of blocks along rows and columns; InputError when the image is too small."""
    h, w = image_shape
    n_cells = (h // ppc[0], w // ppc[1])
    need = (ppc[0] * cpb[0], ppc[1] * cpb[1])
    if n_cells[0] < cpb[0] or n_cells[1] < cpb[1]:
        raise InputError(
            f"frames of {h}x{w} pixels are too small for pixels_per_cell={ppc} and "
            f"cells_per_block={cpb}: need at least {need[0]}x{need[1]} pixels (rows x cols); "
            "use smaller cells or larger crops"
        )
    return n_cells[0] - cpb[0] + 1, n_cells[1] - cpb[1] + 1


def hog_shape(
    image_shape: tuple[int, int],
    *,
    orientations: int = 8,
    pixels_per_cell: tuple[int, int] = (32, 32),
    cells_per_block: tuple[int, int] = (1, 1),
) -> tuple[int, int, int, int, int]:
    """Shape of the HOG of one image before flattening.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` of one frame, in pixels.
    orientations, pixels_per_cell, cells_per_block
        As in :func:`hog`.

    Returns
    -------
    tuple of int
        ``(n_blocks_row, n_blocks_col, cells_per_block_row, cells_per_block_col, orientations)``;
        the number of features per frame is the product.

    Raises
    ------
    InputError
        If a parameter is invalid or the image is smaller than one block.
    """
    n, ppc, cpb = _check_params(orientations, pixels_per_cell, cells_per_block)
    hw = _pair(image_shape, "image_shape")
    nbr, nbc = _grid(hw, ppc, cpb)
    return nbr, nbc, cpb[0], cpb[1], n


def _n_workers(n_jobs: object, n_frames: int) -> int:
    if isinstance(n_jobs, bool | np.bool_) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        raise InputError(
            f"n_jobs must be a non-zero integer (1 = one thread, -1 = all cores); got {n_jobs!r}"
        )
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    workers = int(n_jobs) if n_jobs > 0 else max(1, cpus + 1 + int(n_jobs))
    return max(1, min(workers, n_frames))


def _as_frames(frames: object, transform_sqrt: bool) -> tuple[np.ndarray, bool]:
    """Validated (n, h, w) array in a kernel dtype, and whether values must be scanned."""
    try:
        arr = np.asarray(frames)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"frames must be an array (n_frames, height, width) of equal-sized frames; {exc}"
        ) from None
    kind = arr.dtype.kind
    if kind not in "uif":
        raise InputError(
            f"frames must hold uint8, integer or float pixels; got dtype {arr.dtype} "
            "(convert with frames.astype(np.uint8) or np.float32)"
        )
    if arr.ndim == 2:
        raise InputError(
            f"frames must be a stack (n_frames, height, width); got one image of shape "
            f"{arr.shape}: pass frames[None] for a single image"
        )
    if arr.ndim != 3:
        raise InputError(
            f"frames must be a 3-D grayscale stack (n_frames, height, width); got shape "
            f"{arr.shape} (convert colour video to gray first)"
        )
    if arr.dtype == np.uint8:
        return arr, False
    if kind == "u":
        return arr.astype(np.float64), False
    if kind == "i":
        return arr.astype(np.float64), bool(transform_sqrt)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32 if arr.dtype.itemsize <= 4 else np.float64)
    return arr, True


def hog(
    frames: np.ndarray,
    *,
    orientations: int = 8,
    pixels_per_cell: tuple[int, int] = (32, 32),
    cells_per_block: tuple[int, int] = (1, 1),
    block_norm: str = "L2-Hys",
    transform_sqrt: bool = True,
    n_jobs: int = 1,
) -> np.ndarray:
    """Histogram of oriented gradients of every frame of a grayscale stack.

    Equal, frame by frame, to ``skimage.feature.hog(frame, orientations=...,
    pixels_per_cell=..., cells_per_block=..., block_norm=..., transform_sqrt=...,
    feature_vector=True)`` (max abs difference below 1e-6; scikit-image returns float64 for
    integer input, this returns float32). Defaults are the paper's parameters.

    Parameters
    ----------
    frames : ndarray, shape (n_frames, height, width)
        Grayscale frames, uint8 (or another integer type) or float32/float64 (float16 is
        promoted to float32). Any memory layout (crops of a larger array are fine). Float
        frames must be finite, and non-negative when ``transform_sqrt`` is on.
    orientations : int
        Number of orientation bins over 0-180 degrees (unsigned gradients).
    pixels_per_cell : tuple of int
        Cell size ``(rows, cols)`` in pixels. Rows/columns beyond the last whole cell are
        ignored (except as the neighbour in the central difference), as in scikit-image.
    cells_per_block : tuple of int
        Block size ``(rows, cols)`` in cells; blocks slide by one cell.
    block_norm : {"L1", "L1-sqrt", "L2", "L2-Hys"}
        Block normalisation (eps = 1e-5; L2-Hys clips at 0.2 and renormalises).
    transform_sqrt : bool
        Take the square root of the pixel values first (power-law compression).
    n_jobs : int
        Threads over frames: 1 = this thread, -1 = all cores, -2 = all but one. The result
        does not depend on it.

    Returns
    -------
    ndarray, shape (n_frames, n_features), float32
        One feature vector per frame, ordered like scikit-image's flattened
        ``(n_blocks_row, n_blocks_col, cells_per_block_row, cells_per_block_col,
        orientations)`` array (see :func:`hog_shape`). Unitless.

    Raises
    ------
    InputError
        Wrong number of dimensions (a single ``(h, w)`` image must be passed as
        ``frames[None]``), unsupported dtype, frames smaller than one block, NaN/inf (or
        negative values with ``transform_sqrt``), or an invalid parameter.
    """
    n, ppc, cpb = _check_params(orientations, pixels_per_cell, cells_per_block)
    if block_norm not in NORM_CODES:
        raise InputError(f"block_norm must be one of {sorted(NORM_CODES)}; got {block_norm!r}")
    do_sqrt = bool(transform_sqrt)
    arr, check = _as_frames(frames, do_sqrt)
    nf, h, w = arr.shape
    nbr, nbc = _grid((h, w), ppc, cpb)
    n_features = nbr * nbc * cpb[0] * cpb[1] * n
    workers = _n_workers(n_jobs, max(nf, 1))
    out = np.empty((nf, n_features), dtype=np.float32)
    if nf == 0:
        return out
    step = 180.0 / n
    edges = np.array([step * i for i in range(n + 1)], dtype=np.float64)
    lut = np.arange(256, dtype=np.float64)  # uint8 pixel -> float64 value or its sqrt
    if do_sqrt:
        lut = np.sqrt(lut)
    # gradients are taken in scikit-image's float type: float32 for float32 frames
    tdtype = np.float32 if arr.dtype == np.float32 else np.float64
    status = np.zeros(nf, dtype=np.int8)
    kernel_args = (
        do_sqrt, lut, check, n, ppc[0], ppc[1], cpb[0], cpb[1], NORM_CODES[block_norm],
        edges, special_bins(edges, n), bin_coefficients(n), edge_tolerance(n),
    )  # fmt: skip

    def run(
        start: int,
        stop: int,
        capacity: int = TIE_CAPACITY,
        overrides: tuple[np.ndarray, np.ndarray] = _NO_OVERRIDES,
    ) -> tuple[np.ndarray, ...]:
        tbuf = np.empty((3, w), dtype=tdtype)
        ties = (
            np.empty(capacity, np.int64),
            np.empty(capacity, np.int64),
            np.empty((capacity, 2)),
            np.empty(capacity, np.int32),
            np.zeros(1, np.int64),
        )
        hog_batch(arr, start, stop, *kernel_args, tbuf, out, status, *overrides, *ties)
        k = int(ties[4][0])
        return tuple(t[:k] for t in ties[:4])

    if workers == 1:
        records = [run(0, nf)]
    else:
        bounds = np.linspace(0, nf, workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = [
                pool.submit(run, int(a), int(b))
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            ]
            records = [job.result() for job in jobs]
    bad = np.flatnonzero((status == 1) | (status == 2))
    if bad.size:
        f = int(bad[0])
        if status[f] == 1:
            raise InputError(
                f"frame {f} holds NaN or infinite values ({bad.size} bad frames in all); "
                "replace or drop them before computing HOG"
            )
        raise InputError(
            f"frame {f} holds negative values but transform_sqrt=True needs pixels >= 0 "
            f"({bad.size} such frames); rescale the frames or pass transform_sqrt=False"
        )
    for f in np.flatnonzero(status == 3):  # more ties than TIE_CAPACITY: redo with room
        status[f] = 0
        records.append(run(int(f), int(f) + 1, capacity=h * w))
    _resolve_ties(records, edges, run)
    return out


def _resolve_ties(
    records: list[tuple[np.ndarray, ...]],
    edges: np.ndarray,
    run: Callable[..., object],
) -> None:
    """Redo the frames where numpy's ``arctan2`` bins a tie pixel unlike libm's ``atan2``.

    The kernel bins pixels whose orientation lies on a bin edge (within ``TIE_BAND_DEG``) with
    libm and records them. scikit-image uses ``np.arctan2``, which on some CPUs (numpy 2.x
    with AVX-512: SVML) differs from libm by an ulp, enough to cross the edge. The recorded
    gradients are binned again with numpy's own expression (one vectorised call), and each
    frame with a disagreement is recomputed with the numpy bins for those pixels, so that the
    float32 sums keep scikit-image's order.
    """
    frame, pix, grad, libm_bin = (np.concatenate(parts) for parts in zip(*records, strict=True))
    if frame.size == 0:
        return
    want = numpy_bins(grad[:, 0], grad[:, 1], edges)
    wrong = want != libm_bin
    frame, pix, want = frame[wrong], pix[wrong], want[wrong]
    for f in np.unique(frame):
        sel = np.flatnonzero(frame == f)
        order = np.argsort(pix[sel], kind="stable")
        run(int(f), int(f) + 1, overrides=(pix[sel][order], want[sel][order]))
