"""Cell flow: per-cell displacement of the face against a reference face, in proportion to it.

HOG with the paper's cells (32 px) is concave in the size of a facial movement: an edge moving
inside a cell changes nothing until it crosses into the next one, and an ear that rotates moves
gradient mass between orientation bins (``docs/timecourse.md``). A feature that grows in
proportion to a movement makes prototypes, strength and decoders see graded expressions as
graded. Cell flow is the dense optical flow of each frame against a fixed reference face (the
session's median face), averaged over each cell: ``(dx, dy)`` in pixels of the resized face.

The flow is OpenCV's DIS (dense inverse search; Kroeger et al., ECCV 2016) at its
``ULTRAFAST`` preset: coarse-to-fine over an image pyramid, so that it measures movements of many
pixels as well as sub-pixel ones (a facial action such as a lowered nose tip moves its cells by
10-25 px of a 320-px face), and its patches are compared after removing their mean, so slow
lighting changes read as no movement. About 1 ms per 320 x 270 face. Both images are smoothed
first (Gaussian, ``sigma`` px) against sensor noise.

An earlier version took one Lucas-Kanade step per cell, exactly linear but only for movements of
a pixel or two; on the real-face development data it named 0.21 of the truth-chosen frames of
unseen mice where pooled DIS flow names 0.46-0.48 (the same standardised logistic readout,
exploratory; ``docs/validation.md``).

The head of a head-fixed mouse still shifts, rolls and turns a little, and that moves every cell
at once. With ``head=False`` (the default of the pipeline) each frame's best affine fit of the
flow over the cell centres (``dx = a + b x + c y``, likewise ``dy``: shift, roll, zoom, shear,
and to first order a small yaw) is subtracted, so that what is left is the movement of parts of
the face against each other: 6 of the ``2 * cells`` numbers are lost, the head's movement with
them. On the real-face development data this took the same readout from 0.463 to 0.525 of the
truth-chosen frames of unseen mice (``docs/scripts/flow_readout.py``).

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


@dataclass(frozen=True)
class FlowReference:
    """A reference face prepared for :func:`cell_flow`.

    Attributes
    ----------
    image : ndarray of uint8, shape (h, w)
        The smoothed reference face.
    cell : int
        Cell size in px.
    sigma : float
        Smoothing applied to the reference and to every frame (px).
    """

    image: np.ndarray
    cell: int
    sigma: float

    @property
    def cells(self) -> tuple[int, int]:
        """(cells_y, cells_x)."""
        cy, cx, _ = flow_shape(self.image.shape, cell=self.cell)
        return cy, cx


def flow_shape(face_hw: tuple[int, int], *, cell: int = 16) -> tuple[int, int, int]:
    """``(cells_y, cells_x, n_features)`` of cell flow on a face of size ``face_hw``."""
    cy, cx = face_hw[0] // cell, face_hw[1] // cell
    return cy, cx, cy * cx * 2


def _prepare(image: np.ndarray, sigma: float) -> np.ndarray:
    """Smoothed uint8 copy of one gray image (DIS takes 8-bit images)."""
    out = np.asarray(image, dtype=np.float32)
    if sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def flow_reference(reference: np.ndarray, *, cell: int = 16, sigma: float = 1.5) -> FlowReference:
    """Prepare a reference face (e.g. the session's median face) for :func:`cell_flow`.

    Parameters
    ----------
    reference : ndarray, shape (h, w)
        Gray reference face (0-255), same size as the frames given to :func:`cell_flow`.
    cell : int
        Cell size in px (>= 4); only whole cells are used.
    sigma : float
        Gaussian smoothing in px (>= 0).

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
    if sigma < 0:
        raise InputError("cell flow: sigma must be >= 0")
    cell = int(cell)
    cy, cx, _ = flow_shape(reference.shape, cell=cell)
    if cy < 1 or cx < 1:
        raise InputError(
            f"cell flow: a {reference.shape[1]}x{reference.shape[0]} face holds no whole "
            f"{cell}-px cell; use a smaller flow cell or a larger hog.face_width"
        )
    return FlowReference(image=_prepare(reference, float(sigma)), cell=cell, sigma=float(sigma))


def _affine_residual(cy: int, cx: int) -> np.ndarray:
    """``(c, c)`` projector (``c = cy * cx``) onto what an affine field over the cell centres
    cannot explain: ``I - D pinv(D)`` with ``D = [1, x, y]``."""
    yy, xx = np.mgrid[0:cy, 0:cx]
    x = (xx.ravel() - (cx - 1) / 2) / max(cx, cy)
    y = (yy.ravel() - (cy - 1) / 2) / max(cx, cy)
    design = np.stack([np.ones_like(x), x, y], axis=1)
    return np.eye(cy * cx) - design @ np.linalg.pinv(design)


def cell_flow(
    frames: np.ndarray, ref: FlowReference, *, head: bool = True, n_jobs: int = 1
) -> np.ndarray:
    """Per-cell displacement of each frame against the reference face.

    Parameters
    ----------
    frames : ndarray, shape (n, h, w) or (h, w)
        Gray faces (0-255) of the reference's size (uint8 or float).
    ref : FlowReference
        From :func:`flow_reference`.
    head : bool
        Keep the head's movement (``True``), or subtract each frame's best affine fit of the
        flow over the cell centres (``False``; needs >= 2 x 2 cells).
    n_jobs : int
        Threads (OpenCV releases the GIL); -1 = all cores. The numbers do not depend on it.

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
    h, w = cy * ref.cell, cx * ref.cell
    out = np.empty((len(frames), cy, cx, 2), dtype=np.float32)

    def run(lo: int, hi: int) -> None:
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)  # one per thread
        for i in range(lo, hi):
            flow = dis.calc(ref.image, _prepare(frames[i], ref.sigma), None)
            # cell means by area resampling (exact block means for an integer factor)
            out[i] = cv2.resize(flow[:h, :w], (cx, cy), interpolation=cv2.INTER_AREA)

    wanted = (os.cpu_count() or 1) if n_jobs == -1 else max(1, int(n_jobs))
    workers = min(len(frames), wanted)
    if workers <= 1:
        run(0, len(frames))
    else:
        edges = np.linspace(0, len(frames), workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, edges[:-1], edges[1:]))
    if not head:
        if cy < 2 or cx < 2:
            raise InputError(
                f"cell flow: removing the head's movement needs at least 2 x 2 cells, the face "
                f"holds {cx} x {cy}; use a smaller flow cell or keep the head's movement"
            )
        flat = out.reshape(len(frames), cy * cx, 2)
        proj = _affine_residual(cy, cx).astype(np.float32)
        out = np.einsum("ij,njd->nid", proj, flat)
    return out.reshape(len(frames), cy * cx * 2)
