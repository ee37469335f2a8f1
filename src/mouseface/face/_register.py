"""Private helpers of :mod:`mouseface.face.registration` (coarse search and NCC refinement)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
from skimage.registration import phase_cross_correlation

from mouseface.face._phase import PhaseCorrelator

#: Long side, in pixels, of the copies the coarse rotation/scale search works on.
COARSE_SIDE = 128
#: Smallest overlap (fraction of the reference) a coarse candidate must have to be scored.
MIN_OVERLAP = 0.4

Params = tuple[float, float, float, float]  # dy, dx, rotation (deg), scale


def forward_matrix(
    dy: float,
    dx: float,
    rotation: float,
    scale: float,
    in_shape: Sequence[int],
    out_shape: Sequence[int],
) -> np.ndarray:
    """2x3 float64 matrix of ``p_out = s R (p - c_in) + c_out + (dx, dy)`` in (x, y) pixels."""
    theta = math.radians(rotation)
    a, b = scale * math.cos(theta), scale * math.sin(theta)
    cx_in, cy_in = (in_shape[1] - 1) / 2.0, (in_shape[0] - 1) / 2.0
    cx_out, cy_out = (out_shape[1] - 1) / 2.0, (out_shape[0] - 1) / 2.0
    return np.array(
        [
            [a, b, cx_out + dx - a * cx_in - b * cy_in],
            [-b, a, cy_out + dy + b * cx_in - a * cy_in],
        ],
        dtype=np.float64,
    )


def warp(image: np.ndarray, matrix: np.ndarray, out_shape: Sequence[int]) -> np.ndarray:
    """``cv2.warpAffine`` (bilinear, replicated border) to ``out_shape`` ``(h, w)``."""
    return cv2.warpAffine(
        image,
        matrix,
        (int(out_shape[1]), int(out_shape[0])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def valid_mask(matrix: np.ndarray, in_shape: Sequence[int], out_shape: Sequence[int]) -> np.ndarray:
    """Boolean ``out_shape`` mask of output pixels that come from inside the input image."""
    ones = np.ones(tuple(in_shape[:2]), np.float32)
    cover = cv2.warpAffine(
        ones,
        matrix,
        (int(out_shape[1]), int(out_shape[0])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    return cover > 0.999


def ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Normalised cross-correlation of float32 ``a`` and ``b`` over boolean ``mask``.

    Returns 0 when it is undefined (fewer than 16 pixels, or a constant image).
    """
    m8 = mask.view(np.uint8)
    if cv2.countNonZero(m8) < 16:
        return 0.0
    mean_a, std_a = cv2.meanStdDev(a, mask=m8)
    mean_b, std_b = cv2.meanStdDev(b, mask=m8)
    mean_ab = cv2.mean(cv2.multiply(a, b), mask=m8)[0]
    den = float(std_a[0, 0]) * float(std_b[0, 0])
    if not den > 1e-12:
        return 0.0
    return float((mean_ab - float(mean_a[0, 0]) * float(mean_b[0, 0])) / den)


def angle_grid(max_rotation: float, step: float) -> np.ndarray:
    """Symmetric grid of angles in degrees that contains 0 and ``+-max_rotation``."""
    n = max(0, math.ceil(max_rotation / step - 1e-9))
    half = np.linspace(0.0, max_rotation, n + 1) if n else np.zeros(1)
    return np.unique(np.concatenate([-half[::-1], half]))


def _shrink(image: np.ndarray, side: int) -> tuple[np.ndarray, float, float]:
    """Copy with long side <= ``side`` (area interpolation) and its x, y factors."""
    h, w = image.shape
    f = min(1.0, side / max(h, w))
    if f >= 1.0:
        return image, 1.0, 1.0
    sw, sh = max(8, round(w * f)), max(8, round(h * f))
    return cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA), sw / w, sh / h


def coarse_search(
    image: np.ndarray, reference: np.ndarray, angles: np.ndarray, scales: Sequence[float]
) -> Params:
    """Best (dy, dx, rotation, scale) on a coarse grid, translation by phase correlation.

    ``image`` and ``reference`` are float32 arrays of the same shape; translations are
    returned in pixels of the full-size images.
    """
    img, fx, fy = _shrink(image, COARSE_SIDE)
    ref, _, _ = _shrink(reference, COARSE_SIDE)
    # Blur so that the NCC varies smoothly over the grid (fur texture decorrelates fast).
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    ref = cv2.GaussianBlur(ref, (0, 0), 1.5)
    shape = ref.shape
    correlator = PhaseCorrelator(ref)
    best: tuple[float, Params] = (-math.inf, (0.0, 0.0, 0.0, 1.0))
    for scale in scales:
        for angle in angles:
            m = forward_matrix(0.0, 0.0, float(angle), float(scale), shape, shape)
            sy, sx, _ = correlator.displacement(warp(img, m, shape))
            m[:, 2] -= (sx, sy)
            mask = valid_mask(m, shape, shape)
            if mask.mean() < MIN_OVERLAP:  # a wrapped phase peak; a small overlap fits anything
                continue
            score = ncc(warp(img, m, shape), ref, mask)
            if score > best[0]:
                best = (score, (-sy, -sx, float(angle), float(scale)))
    dy, dx, angle, scale = best[1]
    return (dy / fy, dx / fx, angle, scale)


def refine(
    image: np.ndarray,
    reference: np.ndarray,
    start: Params,
    *,
    upsample: int,
    max_size: int,
    max_rotation: float,
    scale_range: tuple[float, float],
) -> tuple[Params, float, float]:
    """Refine (dy, dx, rotation, scale): upsampled phase correlation, then Gauss-Newton.

    The Gauss-Newton stage fits the four parameters plus an intensity gain and offset
    (so it maximises the NCC) on a pyramid of 128, 256 and ``max_size`` pixels. A result
    with ``|rotation| > max_rotation`` or a scale outside ``scale_range`` is rejected in
    favour of the start (with its phase-correlation translation).

    Returns
    -------
    params : (dy, dx, rotation, scale)
        Translations in full-size pixels.
    score : float
        NCC over the overlap of the aligned image and the reference.
    overlap : float
        Fraction of the reference covered by the aligned image.
    """
    img, fx, fy = _shrink(image, max_size)
    ref, _, _ = _shrink(reference, max_size)
    shape = ref.shape
    dy, dx, angle, scale = start
    dy, dx = dy * fy, dx * fx
    # Translation for the coarse rotation and scale, on windowed images.
    window = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
    turned = warp(img, forward_matrix(0.0, 0.0, angle, scale, shape, shape), shape)
    shift = phase_cross_correlation(
        (ref - ref.mean()) * window, (turned - turned.mean()) * window, upsample_factor=upsample
    )[0]
    if math.hypot(shift[0] - dy, shift[1] - dx) < 0.1 * max(shape):
        dy, dx = float(shift[0]), float(shift[1])
    params: Params = (dy, dx, angle, scale)
    start_params = params
    for side in sorted({min(s, max(shape)) for s in (COARSE_SIDE, 2 * COARSE_SIDE, max(shape))}):
        lvl_img, gx, gy = _shrink(img, side)
        lvl_ref, _, _ = _shrink(ref, side)
        lvl_img = cv2.GaussianBlur(lvl_img, (0, 0), 1.0)
        lvl_ref = cv2.GaussianBlur(lvl_ref, (0, 0), 1.0)
        dy, dx, angle, scale = params
        dy, dx, angle, scale = _gauss_newton(lvl_img, lvl_ref, (dy * gy, dx * gx, angle, scale))
        params = (dy / gy, dx / gx, angle, scale)
    if abs(params[2]) > max_rotation or not scale_range[0] <= params[3] <= scale_range[1]:
        params = start_params
    dy, dx, angle, scale = params
    m = forward_matrix(dy, dx, angle, scale, shape, shape)
    mask = valid_mask(m, shape, shape)
    score = ncc(warp(img, m, shape), ref, mask)
    return (dy / fy, dx / fx, angle, scale), score, float(mask.mean())


def _gauss_newton(
    img: np.ndarray, ref: np.ndarray, start: Params, *, max_iter: int = 30, tol: float = 1e-3
) -> Params:
    """Gauss-Newton fit of (dy, dx, rotation, scale) plus intensity gain and offset.

    Unknowns are in pixel units (translation; rotation and log-scale times a radius), the
    Jacobian is by central differences of the warp (+-0.5 px) over a fixed overlap mask.
    """
    shape = ref.shape
    radius = 0.25 * (shape[0] + shape[1]) / 2.0

    def to_params(v: np.ndarray) -> Params:
        return (float(v[1]), float(v[0]), math.degrees(v[2] / radius), math.exp(v[3] / radius))

    def sample(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return warp(img, forward_matrix(*to_params(v), shape, shape), shape)[mask]

    dy, dx, angle, scale = start
    v = np.array([dx, dy, math.radians(angle) * radius, math.log(scale) * radius])
    mask = _inner_mask(forward_matrix(*to_params(v), shape, shape), shape)
    target = ref[mask].astype(np.float64)
    for _ in range(max_iter):
        base = sample(v, mask).astype(np.float64)
        cols = []
        for k in range(4):
            e = np.zeros(4)
            e[k] = 0.5
            cols.append((sample(v + e, mask) - sample(v - e, mask)).astype(np.float64))
        design = np.column_stack([*cols, -target, -np.ones_like(target)])
        try:  # normal equations of the 6-unknown least-squares problem
            sol = np.linalg.solve(design.T @ design, -(design.T @ base))
        except np.linalg.LinAlgError:
            break
        step = sol[:4]
        if not np.all(np.isfinite(step)):
            break
        step = step * (radius / max(radius, float(np.abs(step).max())))  # at most one radius
        v = v + step
        if float(np.abs(step).max()) < tol:
            break
    return to_params(v)


def _inner_mask(matrix: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Valid-overlap mask shrunk by 3 % of the size, so small parameter steps stay inside."""
    mask = valid_mask(matrix, shape, shape).astype(np.uint8)
    k = max(3, int(0.03 * max(shape)) | 1)
    inner = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return inner.astype(bool) if inner.sum() >= 64 else mask.astype(bool)
