"""Locate facial landmarks automatically on a neutral side-view mouse face (snout to the left).

Found in the image: the **eye** (the strongest dark compact blob: scale-normalised Laplacian of
Gaussian, brighter than its surroundings all round), the **ear** (the strongest bright blob
above-behind the eye; its base is the lobe's point nearest the eye, its tip the point farthest
from the base) and the **nose** tip (the extreme of the head contour toward the snout: the head is
the Otsu class of the fur around the eye, the contour's left-most point below the eye).
Placed from them (a face frame: ``u`` from eye to nose, ``n`` perpendicular, pointing down,
``S`` the eye-nose distance): the nose **bridge**, **cheek**, whisker **pad**, **mouth**,
**chin** and jaw **hinge** (coefficients in :data:`_DERIVED`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mouseface.errors import InputError

__all__ = ["LANDMARK_NAMES", "Landmarks", "find_landmarks"]

#: Landmark names, in the order of the columns of the landmark ground truth.
LANDMARK_NAMES: tuple[str, ...] = (
    "eye",
    "ear_base",
    "ear_tip",
    "nose",
    "bridge",
    "cheek",
    "pad",
    "mouth",
    "chin",
    "hinge",
)

# derived landmark = eye + a * S * u + b * S * n
_DERIVED = {
    "bridge": (0.5, -0.25),
    "cheek": (0.05, 0.55),
    "pad": (0.75, 0.3),
    "mouth": (0.8, 0.6),
    "chin": (0.55, 0.85),
    "hinge": (-0.1, 0.75),
}
_MIN_CONTRAST = 15.0  # gray levels: eye darker / ear brighter than their surroundings
_WORK_SIDE = 150  # px: faces larger than 1.5x this (short side) are searched at this size


@dataclass(frozen=True)
class Landmarks:
    """Landmarks of one neutral face, pixels of the footage (x to the right, y down).

    Attributes
    ----------
    points : dict of str to tuple of float
        ``name -> (x, y)`` for every name in :data:`LANDMARK_NAMES`.
    eye_radius : float
        Radius of the eye, pixels.
    scale : float
        Eye-to-nose distance ``S``, pixels (the unit of every warp).
    """

    points: dict[str, tuple[float, float]]
    eye_radius: float
    scale: float

    def array(self) -> np.ndarray:
        """float64 ``(len(LANDMARK_NAMES), 2)`` of ``(x, y)``."""
        return np.array([self.points[n] for n in LANDMARK_NAMES], dtype=np.float64)

    def frame(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors ``u`` (eye -> nose) and ``n`` (perpendicular, pointing down)."""
        e, s = np.array(self.points["eye"]), np.array(self.points["nose"])
        u = (s - e) / max(np.linalg.norm(s - e), 1e-9)
        n = np.array([-u[1], u[0]])
        return u, (n if n[1] >= 0 else -n)


class _MissError(Exception):
    """A landmark is not where it should be for one eye candidate (reason in the message)."""


def _fail(what: str, name: str, detail: str) -> InputError:
    return InputError(
        f"{name}: could not find the {what} on the median neutral face ({detail}). Give a "
        "side view of the face (eye, ear, snout and mouth inside the ROI, the eye at least ~4 px "
        "across, in focus), set facing='right' if the snout points right, or pass a tighter ROI"
    )


def _eye_candidates(
    img: np.ndarray, *, min_contrast: float = _MIN_CONTRAST
) -> tuple[list[tuple[float, float, float]], float]:
    """Dark compact blobs as ``(x, y, radius)``, highest contrast first; and the best contrast.

    Candidates are local maxima of the scale-normalised Laplacian of Gaussian over 14 scales
    that are darker than a ring at 2.2 radii all round (>= 85 % of the ring)."""
    h, w = img.shape
    side = min(h, w)
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    found = []
    best_contrast = 0.0
    for sigma in np.geomspace(max(1.2, side / 90), side / 8, 14):
        blur = cv2.GaussianBlur(img, (0, 0), sigma)
        log = cv2.Laplacian(blur, cv2.CV_32F, ksize=3) * float(sigma * sigma)
        m = int(np.ceil(1.5 * sigma))
        inner = log[m : h - m, m : w - m]
        if inner.size == 0:
            continue
        local = cv2.dilate(inner, np.ones((3, 3), np.uint8))
        ys, xs = np.nonzero((inner >= local) & (inner > 0))
        ys, xs = ys + m, xs + m
        r = sigma * np.sqrt(2.0)
        core = cv2.GaussianBlur(img, (0, 0), max(sigma / 2, 0.8))[ys, xs]
        ringimg = cv2.GaussianBlur(img, (0, 0), max(r / 2, 1.0))
        rx = np.clip(np.round(xs[:, None] + 2.2 * r * np.cos(angles)).astype(int), 0, w - 1)
        ry = np.clip(np.round(ys[:, None] + 2.2 * r * np.sin(angles)).astype(int), 0, h - 1)
        ring = ringimg[ry, rx]
        contrast = np.median(ring, axis=1) - core
        if len(contrast):
            best_contrast = max(best_contrast, float(contrast.max()))
        ok = (contrast >= min_contrast) & (
            np.mean(ring > (core + 0.35 * contrast)[:, None], axis=1) >= 0.85
        )
        for j in np.nonzero(ok)[0]:
            found.append((float(contrast[j]), int(xs[j]), int(ys[j]), float(sigma), float(core[j])))
    found.sort(key=lambda c: -c[0])
    core_img = cv2.GaussianBlur(img, (0, 0), 0.8)
    out: list[tuple[float, float, float]] = []
    for contrast, x, y, sigma, centre in found:
        r = sigma * np.sqrt(2.0)
        k = int(np.ceil(3.0 * r))
        y0, y1, x0, x1 = max(y - k, 0), min(y + k + 1, h), max(x - k, 0), min(x + k + 1, w)
        dark = cv2.morphologyEx(
            (core_img[y0:y1, x0:x1] < centre + 0.5 * contrast).astype(np.uint8),
            cv2.MORPH_CLOSE,
            np.ones((3, 3), np.uint8),
        )
        _, labels = cv2.connectedComponents(dark)
        lab = labels[y - y0, x - x0]
        if lab == 0:
            continue
        yy, xx = np.nonzero(labels == lab)
        radius = max(float(np.sqrt(len(yy) / np.pi)), 1.0)
        touches = (
            yy.min() == 0 or xx.min() == 0 or yy.max() == y1 - y0 - 1 or xx.max() == x1 - x0 - 1
        )
        if touches or radius > 2.0 * r or radius > side / 8:
            continue  # the dark region runs out of the blob: not compact
        ex, ey = float(xx.mean() + x0), float(yy.mean() + y0)
        if any(np.hypot(ex - c[0], ey - c[1]) < min(radius, c[2]) for c in out):
            continue
        out.append((ex, ey, radius))
        if len(out) >= 12:
            break
    return out, best_contrast


def _find_ear(
    img: np.ndarray, eye: tuple[float, float], r: float, fur: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(base, tip) of the bright lobe above-behind the eye.

    Bright blobs (negative scale-normalised Laplacian of Gaussian, 0.8-4 eye radii) behind the
    eye and above its lower edge are tried strongest first; the lobe is the connected region
    brighter than fur + 60 % of the blob's contrast within 3 blob radii; its base (the lowest
    10 % of the lobe, where the pinna joins the head) must lie at most 4 eye radii above the eye
    and its tip (the point farthest from the base) above the base."""
    h, w = img.shape
    ex, ey = eye
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot(xx - ex, yy - ey)
    region = (xx > ex - r) & (yy < ey + 3 * r) & (dist > 1.5 * r) & (dist < 14 * r)
    cands = []
    for sigma in np.geomspace(0.8 * r, 4.0 * r, 8):
        blur = cv2.GaussianBlur(img, (0, 0), sigma)
        log = -cv2.Laplacian(blur, cv2.CV_32F, ksize=3) * float(sigma * sigma)
        ok = region & (blur > fur + _MIN_CONTRAST) & (log > 0)
        local = cv2.dilate(log, np.ones((3, 3), np.uint8))
        ys, xs = np.nonzero(ok & (log >= local))
        cands += [
            (float(log[y, x]), int(x), int(y), float(sigma)) for y, x in zip(ys, xs, strict=True)
        ]
    cands.sort(key=lambda c: -c[0])
    smooth = cv2.GaussianBlur(img, (0, 0), max(0.5 * r, 1.0))
    for _, px, py, sigma in cands[:30]:
        peak = float(smooth[py, px])
        if peak - fur < _MIN_CONTRAST:
            continue
        mask = (smooth > fur + 0.6 * (peak - fur)).astype(np.uint8)
        mask[np.hypot(xx - px, yy - py) > 3.0 * sigma * np.sqrt(2.0)] = 0
        _, labels = cv2.connectedComponents(mask)
        if labels[py, px] == 0:
            continue
        ys, xs = np.nonzero(labels == labels[py, px])
        low = ys >= np.percentile(ys, 90)  # the pinna joins the head at its lowest part
        base = (float(xs[low].mean()), float(ys[low].mean()))
        d_base = np.hypot(xs - base[0], ys - base[1])
        far = d_base >= np.percentile(d_base, 95)
        tip = (float(xs[far].mean()), float(ys[far].mean()))
        if base[1] < ey - 4 * r or tip[1] > base[1] - r:
            continue
        return base, tip
    raise _MissError("ear: no bright lobe above or behind the eye that joins the head")


def _find_nose(img: np.ndarray, eye: tuple[float, float], r: float) -> tuple[float, float]:
    """Extreme of the head contour toward the snout: the left-most strong edge at or below the
    eye (edges: gradient magnitude > 35 % of its 99th percentile, smoothed at half an eye
    radius, so that whiskers and fur do not count)."""
    h, w = img.shape
    ex, ey = eye
    x1 = int(min(w, ex + 1))
    y0, y1 = int(max(0, ey - 1.0 * r)), int(min(h, ey + 7 * r))
    blur = cv2.GaussianBlur(img, (0, 0), max(r / 2, 1.0))
    gx = cv2.Sobel(blur, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blur, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.hypot(gx, gy)[y0:y1, :x1]
    if grad.size == 0:
        raise _MissError("nose: no room left of the eye")
    strong = grad > 0.35 * np.percentile(grad, 99)
    best_x, best_rows = None, []
    for row in range(strong.shape[0]):
        xs = np.nonzero(strong[row])[0]
        if len(xs) == 0:
            continue
        if best_x is None or xs[0] < best_x:
            best_x, best_rows = xs[0], [row]
        elif xs[0] == best_x:
            best_rows.append(row)
    if best_x is None:
        raise _MissError("nose: no head contour left of the eye")
    nose = (float(best_x), float(np.mean(best_rows) + y0))
    if ex - nose[0] < 1.5 * r:
        raise _MissError("nose: the snout does not extend left of the eye")
    return nose


def find_landmarks(face: np.ndarray, *, name: str = "face") -> Landmarks:
    """Find the landmarks of a neutral face.

    Parameters
    ----------
    face : numpy.ndarray
        ``(h, w)`` gray image (uint8 or float, gray levels), snout to the LEFT; best the median
        of neutral frames.
    name : str, optional
        Name of the source (video file), used in error messages.

    Returns
    -------
    Landmarks

    Raises
    ------
    mouseface.errors.InputError
        If the eye, the ear or the nose cannot be found (the message names ``name`` and what to
        do).
    """
    img = np.asarray(face, dtype=np.float32)
    if img.ndim != 2 or min(img.shape) < 32:
        raise InputError(f"{name}: a face must be a 2-D gray image of at least 32x32 px")
    f = min(img.shape) / _WORK_SIDE
    if f > 1.5:  # large faces: search on a reduced copy (same result, much faster)
        small = cv2.resize(img, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA)
        fy, fx = img.shape[0] / small.shape[0], img.shape[1] / small.shape[1]
        lm = find_landmarks(small, name=name)
        pts = {k: ((x + 0.5) * fx - 0.5, (y + 0.5) * fy - 0.5) for k, (x, y) in lm.points.items()}
        return Landmarks(pts, lm.eye_radius * (fx + fy) / 2, lm.scale * (fx + fy) / 2)
    # pixel noise (robust sd of the fine detail): a blob must stand out of it to be an eye
    detail = img - cv2.GaussianBlur(img, (0, 0), 1.0)
    noise = 1.4826 * float(np.median(np.abs(detail - np.median(detail))))
    cands, best_contrast = _eye_candidates(img, min_contrast=max(_MIN_CONTRAST, 1.5 * noise))
    if not cands:
        raise _fail(
            "eye", name, f"no dark compact blob; best contrast {best_contrast:.0f} gray levels"
        )
    h, w = img.shape
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    errors: list[str] = []
    found = []
    for ex, ey, r in cands:  # dark blobs with an ear and a snout where they belong
        rx = np.clip(np.round(ex + 2.5 * r * np.cos(angles)).astype(int), 0, w - 1)
        ry = np.clip(np.round(ey + 2.5 * r * np.sin(angles)).astype(int), 0, h - 1)
        smooth = cv2.GaussianBlur(img, (0, 0), max(r / 2, 1.0))
        fur = float(np.median(smooth[ry, rx]))
        try:
            nose = _find_nose(img, (ex, ey), r)
            base, tip = _find_ear(img, (ex, ey), r, fur)
        except _MissError as exc:
            errors.append(str(exc))
            continue
        s_len = float(np.hypot(nose[0] - ex, nose[1] - ey))
        if not 2.0 * r <= s_len <= 16.0 * r:
            errors.append(f"eye-nose distance {s_len:.0f} px is not 2-16 eye radii")
            continue
        if np.hypot(base[0] - ex, base[1] - ey) > 2.5 * s_len:
            errors.append("no ear above-behind the eye within 2.5 eye-nose distances")
            continue
        # the eye sits in the fur of the face: its surround is as bright as the snout in front
        seg = [smooth[int(round(ey + (nose[1] - ey) * t)), int(round(ex + (nose[0] - ex) * t))]
               for t in (0.3, 0.4, 0.5)]  # fmt: skip
        contrast = fur - float(smooth[int(round(ey)), int(round(ex))])
        mismatch = abs(float(np.median(seg)) - fur) / max(contrast, 1.0)
        if mismatch > 1.0:
            errors.append(f"the blob at x {ex:.0f}, y {ey:.0f} is not inside the fur")
            continue
        found.append((mismatch, (ex, ey, r), nose, base, tip))
    if not found:
        raise _fail(
            "eye, ear and snout",
            name,
            f"{len(cands)} eye candidates, none with an ear above-behind and a snout in front: "
            + "; ".join(dict.fromkeys(errors)),
        )
    _, (ex, ey, r), nose, base, tip = min(found, key=lambda f: f[0])
    points = {"eye": (ex, ey), "ear_base": base, "ear_tip": tip, "nose": nose}
    e = np.array([ex, ey])
    s = float(np.hypot(nose[0] - ex, nose[1] - ey))
    u, n = Landmarks(points, r, s).frame()
    for key, (a, b) in _DERIVED.items():
        p = e + a * s * u + b * s * n
        points[key] = (float(p[0]), float(p[1]))
    return Landmarks(points=points, eye_radius=float(r), scale=s)
