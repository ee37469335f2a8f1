"""Facial action units as smooth displacement fields anchored on a real face's landmarks.

Each action unit of :data:`~mouseface.synth.profiles.AU_NAMES` is a *unit field*: how far, in
pixels of the footage, each point of the face moves for an amplitude of +1 (content motion; the
frame is then resampled with ``cv2.remap`` at ``p - sum_k a_k v_k(p)``, a first-order inverse,
so the fields add linearly). Every field is a local rotation, scaling or shift weighted by a
Gaussian around its landmarks, so it is smooth and zero beyond three of its widths. Lengths
scale with the eye-to-nose distance ``S`` of the face
(:class:`~mouseface.synth.landmarks.Landmarks`).

| unit | +1 moves | about |
|---|---|---|
| ``ear_angle`` | pinna rotated 25 deg forward (toward the snout) | ear base |
| ``ear_flat`` | pinna 30 % shorter toward its base and 12 deg back | ear base |
| ``eye_close`` | eye region squeezed vertically to ~40 % (< 0: widened) | eye centre |
| ``nose_bulge`` | bridge of the nose expanded (x ~1.5 at its centre) | bridge |
| ``nose_down`` | nose tip 0.25 S down | nose tip |
| ``cheek_bulge`` | cheek expanded (x ~1.5) and 0.08 S lower | cheek |
| ``whisker_angle`` | whisker pad region rotated 20 deg forward | pad |
| ``whisker_spread`` | pad region fanned out across the eye-nose axis (+30 %) | pad |
| ``jaw_open`` | lower jaw (below the mouth line) rotated 15 deg down | jaw hinge |
| ``jaw_forward`` | lower jaw 0.15 S forward | chin |
"""

from __future__ import annotations

import numpy as np

from mouseface.synth.landmarks import Landmarks
from mouseface.synth.profiles import AU_NAMES

__all__ = ["AU_REGIONS", "unit_fields"]

#: Landmark(s) each unit's field is centred on (its region; used by the tests and the docs).
AU_REGIONS: dict[str, tuple[str, ...]] = {
    "ear_angle": ("ear_base", "ear_tip"),
    "ear_flat": ("ear_base", "ear_tip"),
    "eye_close": ("eye",),
    "nose_bulge": ("bridge",),
    "nose_down": ("nose",),
    "cheek_bulge": ("cheek",),
    "whisker_angle": ("pad",),
    "whisker_spread": ("pad",),
    "jaw_open": ("chin", "mouth"),
    "jaw_forward": ("chin",),
}


def _gauss(qx: np.ndarray, qy: np.ndarray, c: np.ndarray, sx: float, sy: float | None = None):
    """Gaussian weight (peak 1) tapered to exactly 0 at 3 sd: ``exp(-d2 / 2) (1 - d2 / 9)^2``,
    smooth and of compact support (so each field moves pixels only near its landmarks)."""
    sy = sx if sy is None else sy
    d2 = ((qx - c[0]) / sx) ** 2 + ((qy - c[1]) / sy) ** 2
    return np.exp(-0.5 * d2) * np.clip(1.0 - d2 / 9.0, 0.0, None) ** 2


def _rot(qx: np.ndarray, qy: np.ndarray, c: np.ndarray, theta: float) -> tuple:
    """Content motion of a small rotation by ``theta`` rad about ``c``; > 0 turns a point above
    ``c`` toward the snout (left) and a point in front of ``c`` downward."""
    return theta * (qy - c[1]), -theta * (qx - c[0])


def unit_fields(lm: Landmarks, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """Unit displacement fields of every action unit at the points ``(qx, qy)``.

    Parameters
    ----------
    lm : Landmarks
        Landmarks of the neutral face (footage pixels, snout to the left).
    qx, qy : numpy.ndarray
        Coordinates where the fields are evaluated (footage pixels), any equal shapes.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(AU_NAMES), 2, *qx.shape)``: content motion ``(vx, vy)`` in footage pixels
        for an amplitude of +1 of each unit, in :data:`AU_NAMES` order.
    """
    qx = np.asarray(qx, dtype=np.float64)
    qy = np.asarray(qy, dtype=np.float64)
    p = {k: np.asarray(v, dtype=np.float64) for k, v in lm.points.items()}
    s, r = lm.scale, lm.eye_radius
    u, n = lm.frame()
    out = np.zeros((len(AU_NAMES), 2, *qx.shape), dtype=np.float64)

    base, tip = p["ear_base"], p["ear_tip"]
    ear_len = max(float(np.hypot(*(tip - base))), r)
    w_ear = _gauss(qx, qy, (base + tip) / 2, 0.5 * ear_len)
    vx, vy = _rot(qx, qy, base, np.deg2rad(25.0))
    out[0] = vx * w_ear, vy * w_ear
    vx, vy = _rot(qx, qy, base, -np.deg2rad(12.0))
    out[1] = (vx - 0.3 * (qx - base[0])) * w_ear, (vy - 0.3 * (qy - base[1])) * w_ear

    eye = p["eye"]
    w_eye = _gauss(qx, qy, eye, 2.2 * r, 1.6 * r)
    out[2, 1] = -0.6 * (qy - eye[1]) * w_eye

    c = p["bridge"]
    g = _gauss(qx, qy, c, 0.22 * s)
    out[3] = 0.45 * (qx - c[0]) * g, 0.45 * (qy - c[1]) * g

    g = _gauss(qx, qy, p["nose"], 0.3 * s)
    out[4, 1] = 0.25 * s * g

    c = p["cheek"]
    g = _gauss(qx, qy, c, 0.28 * s)
    out[5] = 0.45 * (qx - c[0]) * g, 0.45 * (qy - c[1]) * g + 0.08 * s * g

    pad = p["pad"]
    g = _gauss(qx, qy, pad - 0.1 * s * u + 0.1 * s * n, 0.4 * s)
    vx, vy = _rot(qx, qy, pad, np.deg2rad(20.0))
    out[6] = vx * g, vy * g
    across = (qx - pad[0]) * n[0] + (qy - pad[1]) * n[1]
    out[7] = 0.3 * across * n[0] * g, 0.3 * across * n[1] * g

    mouth, chin, hinge = p["mouth"], p["chin"], p["hinge"]
    below = (qx - mouth[0]) * n[0] + (qy - mouth[1]) * n[1]
    lower = 1.0 / (1.0 + np.exp(-below / max(0.05 * s, 0.5)))
    w_jaw = _gauss(qx, qy, (chin + mouth) / 2, 0.4 * s) * lower
    vx, vy = _rot(qx, qy, hinge, np.deg2rad(15.0))
    out[8] = vx * w_jaw, vy * w_jaw
    out[9] = 0.15 * s * u[0] * w_jaw, 0.15 * s * u[1] * w_jaw
    return out.astype(np.float32)
