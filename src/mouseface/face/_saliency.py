"""Saliency map and box of the animal for :func:`mouseface.face.propose_roi`."""

from __future__ import annotations

import cv2
import numpy as np

#: Long side, in pixels, of the shrunk frames the saliency map is computed on.
_WORK_SIDE = 200
#: Temporal std (gray levels, after smoothing) below which frames count as still.
_STILL_STD = 0.5
#: Saliency trimmed from each side of the region when taking its box.
_TRIM = 0.02


def face_box(frames: np.ndarray) -> tuple[float, float, float, float] | None:
    """Box ``(x0, y0, x1, y1)`` (pixels, full frame, x1/y1 exclusive) of the most salient region.

    Parameters
    ----------
    frames : ndarray, shape (n, h, w), uint8

    Returns
    -------
    tuple of 4 float or None
        ``None`` when the frames carry no structure (uniform).
    """
    _, fh, fw = frames.shape
    factor = min(1.0, _WORK_SIDE / max(fh, fw))
    sw, sh = max(4, round(fw * factor)), max(4, round(fh * factor))
    small = np.stack(
        [cv2.resize(f, (sw, sh), interpolation=cv2.INTER_AREA) for f in frames]
    ).astype(np.float32)
    sigma = max(1.0, min(sh, sw) / 40.0)
    sal = _saliency(small, sigma)
    if sal is None:
        return None
    mask = _salient_mask(sal, sigma)
    n_labels, labels = cv2.connectedComponents(mask)
    if n_labels < 2:
        return None
    sums = np.bincount(labels.ravel(), weights=sal.ravel(), minlength=n_labels)
    sums[0] = -1.0
    ys, xs = np.nonzero(labels == int(np.argmax(sums)))
    weights = sal[ys, xs].astype(np.float64) + 1e-6
    x0, x1 = _weighted_quantiles(xs, weights)
    y0, y1 = _weighted_quantiles(ys, weights)
    fx, fy = sw / fw, sh / fh
    return (x0 / fx, y0 / fy, (x1 + 1) / fx, (y1 + 1) / fy)


def _saliency(small: np.ndarray, sigma: float) -> np.ndarray | None:
    """Map in ``[0, 1]``: log motion energy, or log fine texture for still frames."""
    motion = cv2.GaussianBlur(small.std(axis=0), (0, 0), sigma)
    if small.shape[0] < 2 or float(np.percentile(motion, 99)) < _STILL_STD:
        texture = np.mean(
            [np.abs(f - cv2.GaussianBlur(f, (0, 0), 1.5)) for f in small], axis=0
        ).astype(np.float32)
        motion = cv2.GaussianBlur(texture, (0, 0), sigma)
    floor = max(float(np.percentile(motion, 10)), 1e-3)
    logmap = np.log(np.maximum(motion, floor) / floor)
    top = float(np.percentile(logmap, 99))
    if top < 0.05:  # less than 5 % above the background everywhere: nothing stands out
        return None
    return np.clip(logmap / top, 0.0, 1.0).astype(np.float32)


def _salient_mask(sal: np.ndarray, sigma: float) -> np.ndarray:
    """Otsu threshold of the saliency map, opened and closed, as a uint8 0/255 mask."""
    u8 = np.round(sal * 255).astype(np.uint8)
    _, mask = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = int(2 * sigma) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    if opened.any():
        mask = opened
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def _weighted_quantiles(v: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Lower and upper ``_TRIM`` weighted quantiles of integer coordinates ``v``."""
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    cum /= cum[-1]
    lo = v[order][min(len(v) - 1, int(np.searchsorted(cum, _TRIM)))]
    hi = v[order][min(len(v) - 1, int(np.searchsorted(cum, 1.0 - _TRIM)))]
    return float(lo), float(hi)
