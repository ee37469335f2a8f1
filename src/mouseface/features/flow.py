"""Cell flow: per-cell displacement of the face against a reference face, linear in small movements.

HOG with the paper's cells (32 px) is concave in the size of a facial movement: an edge moving
inside a cell changes nothing until it crosses into the next one, and an ear that rotates moves
gradient mass between orientation bins (``docs/timecourse.md``). A feature that grows in
proportion to a small movement makes prototypes, strength and decoders see graded expressions as
graded. Cell flow is one Lucas-Kanade step per cell against a fixed reference face: for the
pixels of a cell, the displacement ``d`` (and a brightness offset ``beta``) that best explain the
frame as the reference moved by ``d``,

    I(x) - R(x) ~ -grad R(x) . d + beta    (least squares over the cell),

so ``d = -(A + lambda I)^-1 b`` with the cell's structure tensor ``A`` (sums of the reference's
gradient products, extended by the constant term) and ``b`` the sums of gradient times frame
difference. The brightness offset absorbs slow lighting changes; ``lambda`` (a fraction of the
mean tensor trace) makes a textureless cell read no movement instead of noise. Both images are
smoothed first (Gaussian, ``sigma`` px) so that the linearisation holds for movements of a few
pixels. The reference's tensor is inverted once; each frame costs a difference, three products and
cell sums: much cheaper than dense optical flow (DIS, Farneback) and exactly linear in the
frame.

Features are ``(dx, dy)`` of every whole cell in pixels of the resized face, row-major over cells,
``dx`` then ``dy`` per cell: shape ``(n, cells_y * cells_x * 2)``. Subtracting a neutral
prototype (the mean over baseline frames) turns "movement from the reference face" into
"movement from the neutral face", to first order.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from mouseface.errors import InputError

__all__ = ["FlowReference", "flow_reference", "cell_flow", "flow_shape"]

_AREA = cv2.INTER_AREA


@dataclass(frozen=True)
class FlowReference:
    """A reference face prepared for :func:`cell_flow`.

    Attributes
    ----------
    image : ndarray of float32, shape (h, w)
        The smoothed reference face.
    gx, gy : ndarray of float32, shape (cy * cell, cx * cell)
        Its horizontal and vertical gradients over the whole cells (px of intensity per px).
    inverse : ndarray of float64, shape (cy, cx, 3, 3)
        Regularised inverse of each cell's structure tensor (gx, gy, 1).
    cell : int
        Cell size in px.
    sigma : float
        Smoothing applied to the reference and to every frame (px).
    """

    image: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    inverse: np.ndarray
    cell: int
    sigma: float

    @property
    def cells(self) -> tuple[int, int]:
        """(cells_y, cells_x)."""
        return self.inverse.shape[0], self.inverse.shape[1]


def flow_shape(face_hw: tuple[int, int], *, cell: int = 16) -> tuple[int, int, int]:
    """``(cells_y, cells_x, n_features)`` of cell flow on a face of size ``face_hw``."""
    cy, cx = face_hw[0] // cell, face_hw[1] // cell
    return cy, cx, cy * cx * 2


def _smooth(frames: np.ndarray, sigma: float) -> np.ndarray:
    out = np.asarray(frames, dtype=np.float32)
    if sigma <= 0:
        return out
    if out.ndim == 2:
        return cv2.GaussianBlur(out, (0, 0), sigma)
    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in out])


def _cell_sums(a: np.ndarray, cy: int, cx: int, cell: int) -> np.ndarray:
    """Sum over each cell of the last two axes: (..., cy*cell, cx*cell) -> (..., cy, cx)."""
    lead = a.shape[:-2]
    return a.reshape(*lead, cy, cell, cx, cell).sum(axis=(-3, -1), dtype=np.float64)


def flow_reference(
    reference: np.ndarray, *, cell: int = 16, sigma: float = 1.5, regularisation: float = 1e-2
) -> FlowReference:
    """Prepare a reference face (e.g. the session's median face) for :func:`cell_flow`.

    Parameters
    ----------
    reference : ndarray, shape (h, w)
        Gray reference face, same size as the frames given to :func:`cell_flow`.
    cell : int
        Cell size in px (>= 4); only whole cells are used.
    sigma : float
        Gaussian smoothing in px (>= 0).
    regularisation : float
        ``lambda`` as a fraction of the mean structure-tensor trace over cells (>= 0).

    Returns
    -------
    FlowReference

    Raises
    ------
    InputError
        If the face holds no whole cell or a parameter is out of range.
    """
    reference = np.asarray(reference)
    if reference.ndim != 2:
        raise InputError(f"cell flow: the reference face must be 2-D, got shape {reference.shape}")
    if int(cell) != cell or cell < 4:
        raise InputError(f"cell flow: cell must be an integer >= 4 px, got {cell!r}")
    if sigma < 0 or regularisation < 0:
        raise InputError("cell flow: sigma and regularisation must be >= 0")
    cell = int(cell)
    cy, cx, _ = flow_shape(reference.shape, cell=cell)
    if cy < 1 or cx < 1:
        raise InputError(
            f"cell flow: a {reference.shape[1]}x{reference.shape[0]} face holds no whole "
            f"{cell}-px cell; use a smaller flow cell or a larger hog.face_width"
        )
    img = _smooth(reference, sigma)
    gy, gx = np.gradient(img)
    gx = np.ascontiguousarray(gx[: cy * cell, : cx * cell], dtype=np.float32)
    gy = np.ascontiguousarray(gy[: cy * cell, : cx * cell], dtype=np.float32)
    one = np.ones_like(gx)
    comps = (gx, gy, one)
    A = np.empty((cy, cx, 3, 3), dtype=np.float64)
    for i, a in enumerate(comps):
        for j, b in enumerate(comps):
            if j >= i:
                A[..., i, j] = A[..., j, i] = _cell_sums(a * b, cy, cx, cell)
    trace = A[..., 0, 0] + A[..., 1, 1]
    lam = regularisation * max(float(trace.mean()), 1e-12)
    reg = np.diag([lam, lam, 0.0])
    inverse = np.linalg.inv(A + reg)
    return FlowReference(image=img, gx=gx, gy=gy, inverse=inverse, cell=cell, sigma=float(sigma))


def cell_flow(frames: np.ndarray, ref: FlowReference, *, n_jobs: int = 1) -> np.ndarray:
    """Per-cell displacement of each frame against the reference face.

    Parameters
    ----------
    frames : ndarray, shape (n, h, w) or (h, w)
        Gray faces of the reference's size (uint8 or float).
    ref : FlowReference
        From :func:`flow_reference`.
    n_jobs : int
        Threads (OpenCV releases the GIL); -1 = all cores.

    Returns
    -------
    ndarray of float32, shape (n, cells_y * cells_x * 2)
        ``(dx, dy)`` per cell in px (positive: the face moved right / down), row-major over cells.
    """
    frames = np.asarray(frames)
    single = frames.ndim == 2
    if single:
        frames = frames[None]
    if frames.ndim != 3 or frames.shape[1:] != ref.image.shape:
        raise InputError(
            f"cell flow: frames of shape {frames.shape[1:]} do not match the reference face "
            f"{ref.image.shape}"
        )
    cy, cx = ref.cells
    c = ref.cell
    h, w = cy * c, cx * c
    ref_img = np.ascontiguousarray(ref.image[:h, :w])
    # cell means by area resampling (exact block means for an integer factor), per frame: a few
    # vectorised OpenCV passes instead of float64 reshape-sums (about 4x faster)
    b = np.empty((len(frames), cy, cx, 3), dtype=np.float32)

    def sums(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            sm = frames[i].astype(np.float32)
            if ref.sigma > 0:
                sm = cv2.GaussianBlur(sm, (0, 0), ref.sigma)
            diff = cv2.subtract(np.ascontiguousarray(sm[:h, :w]), ref_img)
            b[i, ..., 0] = cv2.resize(cv2.multiply(diff, ref.gx), (cx, cy), interpolation=_AREA)
            b[i, ..., 1] = cv2.resize(cv2.multiply(diff, ref.gy), (cx, cy), interpolation=_AREA)
            b[i, ..., 2] = cv2.resize(diff, (cx, cy), interpolation=_AREA)

    wanted = (os.cpu_count() or 1) if n_jobs == -1 else max(1, int(n_jobs))
    workers = min(len(frames), wanted)
    if workers <= 1:
        sums(0, len(frames))
    else:
        edges = np.linspace(0, len(frames), workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(sums, edges[:-1], edges[1:]))
    sums = b.astype(np.float64) * float(c * c)
    sol = -np.einsum("yxij,nyxj->nyxi", ref.inverse, sums)
    return sol[..., :2].reshape(len(frames), cy * cx * 2).astype(np.float32)
