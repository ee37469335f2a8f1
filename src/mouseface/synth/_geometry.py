"""Face geometry: from anatomy and action units to outlines in frame pixels (private).

All constants are in a reference 240 x 320 (h x w) frame, face toward the left (snout at small
x), y pointing down. :class:`FaceModel` maps them to the actual frame size and the animal's size,
shape and position, moves the parts with the action units, and applies the head jitter
(translation and rotation about the eye) to every outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mouseface.synth.anatomy import Anatomy
from mouseface.synth.profiles import AU_NAMES

_REF_H, _REF_W = 240.0, 320.0
_ANCHOR = np.array([150.0, 118.0])  # reference point placed at the frame centre
_EYE = np.array([135.0, 112.0])
_HINGE = np.array([140.0, 168.0])
_EAR_BASE = np.array([198.0, 88.0])
_PAD = np.array([62.0, 152.0])
_CHEEK = np.array([104.0, 149.0])
_MOUTH_CORNER = np.array([88.0, 176.0])

# Head and body outline, clockwise in the image; names index the AU moves below.
_OUTLINE_NAMES = (
    "nose", "bridge_front", "bridge", "forehead", "crown", "nape", "back1", "back2",
    "off1", "off2", "throat", "jaw", "chin", "lip_low", "lip_up", "nose_under",
)  # fmt: skip
_OUTLINE = np.array(
    [
        [30, 150], [43, 135], [66, 121], [112, 97], [165, 82], [232, 76], [300, 84], [345, 100],
        [345, 265], [215, 265], [170, 213], [115, 198], [70, 186], [52, 175], [43, 167],
        [32, 159],
    ],
    dtype=np.float64,
)  # fmt: skip
_I = {name: i for i, name in enumerate(_OUTLINE_NAMES)}
_JAW = np.array([_I["jaw"], _I["chin"], _I["lip_low"]])
_SAMPLES = 6
_AU = {name: i for i, name in enumerate(AU_NAMES)}


def _catmull_rom_matrix(n: int, samples: int) -> np.ndarray:
    """(n * samples, n) matrix mapping n closed control points to a uniform Catmull-Rom curve."""
    t = np.linspace(0.0, 1.0, samples, endpoint=False)
    basis = 0.5 * np.stack(
        [-t + 2 * t**2 - t**3, 2 - 5 * t**2 + 3 * t**3, t + 4 * t**2 - 3 * t**3, -(t**2) + t**3],
        axis=1,
    )  # (samples, 4) weights of p[i-1], p[i], p[i+1], p[i+2]
    m = np.zeros((n * samples, n))
    for i in range(n):
        for j, off in enumerate((-1, 0, 1, 2)):
            m[i * samples : (i + 1) * samples, (i + off) % n] += basis[:, j]
    return m


_SPLINE = _catmull_rom_matrix(len(_OUTLINE), _SAMPLES)
_CIRCLES = {
    n: np.stack([np.cos(t), np.sin(t)], 1)
    for n in (10, 16, 24, 32)
    for t in [np.linspace(0.0, 2 * np.pi, n, endpoint=False)]
}


def ellipse_points(center, axes, angle_deg: float, n: int = 24) -> np.ndarray:
    """Polygon (n, 2) of an ellipse with semi-axes ``axes`` rotated by ``angle_deg`` degrees."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    rot = np.array([[axes[0] * c, axes[0] * s], [-axes[1] * s, axes[1] * c]])
    return _CIRCLES[n] @ rot + center


def _rotate(points: np.ndarray, center: np.ndarray, angle_rad: float) -> np.ndarray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return (points - center) @ np.array([[c, s], [-s, c]]) + center


@dataclass(frozen=True)
class Shapes:
    """Outlines of one frame.

    ``points[name]`` holds float64 frame-pixel coordinates, shape ``(..., 2)`` as (x, y);
    ``fixed[name]`` the same points as int32 fixed point (1/16 px) for OpenCV's ``shift=4``.
    Names: head, mouth, eye, eye_rim, glint, creases, nose, nostril, pad, follicles, cheek,
    cheek_rim, bridge, ear, ear_inner, whiskers, and when present tongue, paw_arm, paw_palm,
    paw_digits.
    """

    points: dict[str, np.ndarray]
    fixed: dict[str, np.ndarray]
    eye_open: float
    px: float


class FaceModel:
    """Maps an animal's anatomy and per-frame action units to :class:`Shapes`.

    Parameters
    ----------
    anatomy : Anatomy
        The animal.
    size : tuple of int
        Frame ``(height, width)`` in pixels.
    """

    def __init__(self, anatomy: Anatomy, size: tuple[int, int]) -> None:
        self.anatomy = anatomy
        h, w = size
        self.k = min(h / _REF_H, w / _REF_W)
        self.px = self.k * anatomy.scale
        off = np.asarray(anatomy.offset) * self.k
        self._b = np.array([w / 2.0, h / 2.0]) + off - _ANCHOR * self.px
        outline = _OUTLINE.copy()
        front = outline[:, 0] < _EYE[0]
        outline[front, 0] = _EYE[0] + (outline[front, 0] - _EYE[0]) * anatomy.snout_length
        outline[:, 1] = _EYE[1] + (outline[:, 1] - _EYE[1]) * anatomy.head_height
        self._outline = outline
        self._front = (anatomy.snout_length - 1.0) * np.array([_PAD[0] - _EYE[0], 0.0])
        rng = np.random.default_rng(anatomy.seed + 1)
        n_w = anatomy.whisker_count
        self._w_fan = np.sort(rng.uniform(-1.0, 1.0, n_w))
        rows = (self._w_fan * -2.0 + rng.normal(0, 0.5, n_w)).clip(-2.5, 2.5)
        self._w_root = np.stack([rng.uniform(-16.0, 12.0, n_w), rows * 4.5], axis=1)
        self._w_len = rng.uniform(70.0, 150.0, n_w) * anatomy.whisker_length
        self._w_bend = rng.uniform(0.1, 0.4, n_w)[:, None] * np.array([0.0, 0.33, 0.66, 1.0])
        self._w_r = self._w_len[:, None] * np.array([0.0, 0.33, 0.66, 1.0])
        self._w_jit = rng.normal(0.0, np.deg2rad(4.0), n_w)
        gy, gx = np.mgrid[-2:3, 0:4]
        self._follicles = np.stack([gx.ravel() * 7.0 - 12.0 + gy.ravel(), gy.ravel() * 5.0], 1)
        self._jitter = np.eye(2), np.zeros(2)

    def to_frame(self, p: np.ndarray, jitter: tuple[np.ndarray, np.ndarray] | None = None):
        """Reference coordinates (..., 2) -> frame pixels, with an optional jitter transform."""
        q = p * self.px + self._b
        if jitter is not None:
            q = q @ jitter[0] + jitter[1]
        return q

    def jitter_transform(self, dx: float, dy: float, rotation: float):
        """(matrix, offset) for ``q @ matrix + offset``: rotation (deg, counter-clockwise in the
        image) about the eye, then translation by (dx, dy) pixels."""
        a = math.radians(rotation)
        c, s = math.cos(a), math.sin(a)
        m = np.array([[c, -s], [s, c]])  # row-vector form of a counter-clockwise image rotation
        center = self.to_frame(_EYE)
        return m, center - center @ m + (dx, dy)

    def shapes(
        self,
        au: np.ndarray,
        *,
        blink: float = 0.0,
        tongue: float = 0.0,
        paw: float = 0.0,
        paw_phase: float = 0.0,
        dx: float = 0.0,
        dy: float = 0.0,
        rotation: float = 0.0,
    ) -> Shapes:
        """Outlines of the face for action units ``au`` (shape ``(len(AU_NAMES),)``)."""
        a = self.anatomy
        au = np.asarray(au, dtype=np.float64).tolist()  # Python floats: fast scalar maths
        nose_down = au[_AU["nose_down"]]
        bulge = max(au[_AU["nose_bulge"]], 0.0)
        jaw_open = min(max(au[_AU["jaw_open"]], 0.0) + 0.45 * tongue, 1.5)
        fwd = au[_AU["jaw_forward"]]
        cheek = max(au[_AU["cheek_bulge"]], 0.0)

        pts = self._outline.copy()
        pts[_I["nose"]] += (-2.0 * bulge, 12.0 * nose_down)
        pts[_I["nose_under"]] += (0.0, 11.0 * nose_down)
        pts[_I["lip_up"]] += (0.0, 6.0 * nose_down)
        pts[_I["bridge_front"]] += (-4.0 * bulge, 8.0 * nose_down - 7.0 * bulge)
        pts[_I["bridge"]] += (-3.0 * bulge, 3.0 * nose_down - 10.0 * bulge)
        pts[_JAW, 0] -= np.array([6.0, 10.0, 10.0]) * fwd
        pts[_I["jaw"], 1] += 6.0 * cheek
        closed_low = pts[_I["lip_low"]].copy()
        pts[_JAW] = _rotate(pts[_JAW], _HINGE, -math.radians(22.0) * jaw_open)
        head = _SPLINE @ pts
        lip_up, lip_low = pts[_I["lip_up"]], pts[_I["lip_low"]]
        # the gape: thin line when closed, opens with the jaw rotation
        gape = lip_up + (2.0, 1.5) + (lip_low - closed_low)
        mouth = np.stack([lip_up, _MOUTH_CORNER + (-4.0 * fwd, 2.0 * jaw_open), gape])

        # eye: orbital tightening closes it, negative values open it wider; blinks close it
        tight = au[_AU["eye_close"]]
        openness = min(max(1.0 - tight, 0.0), 1.7) * (1.0 - blink)
        ex, ey = 12.5 * a.eye_size, 9.0 * a.eye_size
        eye = ellipse_points(_EYE, (ex, max(ey * openness, 0.4)), -10.0, 32)
        eye_rim = ellipse_points(_EYE, (ex + 3.5, ey * max(openness, 0.3) + 3.5), -10.0, 24)
        glint = _EYE + (-4.0, -3.0 * min(openness, 1.0))
        t = max(tight, 0.0)
        creases = _EYE + np.array(
            [
                [[ex + 2, -2], [ex + 14, -7 - 5 * t]],
                [[ex + 2, 2], [ex + 13, 7 + 4 * t]],
                [[-ex - 1, -3], [-ex - 9, -9 - 4 * t]],
            ]
        )

        nose_c = pts[_I["nose"]] + (6.5, 3.0)
        nose = ellipse_points(nose_c, (7.0 + 1.5 * bulge, 6.0), 30.0, 16)
        nostril = ellipse_points(nose_c + (2.5, -1.0), (2.4, 1.5), 20.0, 10)
        pad_c = _PAD + self._front + (-3.0 * fwd, 7.0 * nose_down)
        pad = ellipse_points(pad_c, (26.0, 17.0), -15.0, 24)
        follicles = pad_c + self._follicles
        cheek_c = _CHEEK + (0.0, 4.0 * cheek)
        cheek_pts = ellipse_points(cheek_c, (22.0 * (1 + 0.3 * cheek), 17.0 * (1 + 0.35 * cheek)),
                                   10.0, 24)  # fmt: skip
        cheek_rim = cheek_pts[2:13]  # lower, back part of the cheek outline
        bridge = (pts[_I["bridge_front"]] + pts[_I["bridge"]]) / 2 + (4.0, 5.0)

        # ear: rotates about its base (forward = toward the snout); flattening turns the pinna
        # sideways and down, so that it looks narrower and shorter from the side
        flat = min(max(au[_AU["ear_flat"]], 0.0), 1.2)
        ear_angle = au[_AU["ear_angle"]]
        theta = math.radians(a.ear_rest_angle - 35.0 * ear_angle + 8.0 * flat)
        axis = np.array([np.sin(theta), -np.cos(theta)])
        perp = np.array([-axis[1], axis[0]])
        base = _EAR_BASE + (-4.0 * ear_angle, 7.0 * flat)
        length = 66.0 * a.ear_size * (1.0 - 0.25 * flat)
        width = 62.0 * a.ear_size * (1.0 - 0.55 * flat)
        u, v = _EAR_U, _EAR_V
        ear = base + np.outer(length * u, axis) + np.outer(0.5 * width * v, perp)
        inner_w = 0.5 * width * 0.6 * (1.0 - 0.6 * flat)
        ear_inner = (
            base + np.outer(length * (0.12 + 0.7 * u), axis) + np.outer(inner_w * v - 0.1 * width,
                                                                         perp)
        )  # fmt: skip

        # whiskers: fan of slightly bent lines from the pad
        w_base = math.radians(150.0 + 30.0 * au[_AU["whisker_angle"]])
        half = math.radians(max(32.0 * (1.0 + 0.6 * au[_AU["whisker_spread"]]), 5.0))
        phi = (w_base + half * self._w_fan + self._w_jit)[:, None] - self._w_bend
        roots = pad_c + self._w_root
        whiskers = np.stack(
            [roots[:, :1] + self._w_r * np.cos(phi), roots[:, 1:] + self._w_r * np.sin(phi)], -1
        )

        parts = {
            "head": head, "mouth": mouth, "eye": eye, "eye_rim": eye_rim, "glint": glint,
            "creases": creases, "nose": nose, "nostril": nostril, "pad": pad,
            "follicles": follicles[:, None, :] + _DOT, "cheek": cheek_pts,
            "cheek_rim": cheek_rim, "bridge": bridge, "ear": ear, "ear_inner": ear_inner,
            "whiskers": whiskers,
        }  # fmt: skip
        if tongue > 0.05:
            tip = (lip_up + gape) / 2
            parts["tongue"] = ellipse_points(tip + (-7.0 * tongue, 3.0), (4 + 10 * tongue, 5.0),
                                             15, 16)  # fmt: skip
        if paw > 0.01:
            c = np.array([54.0 + 8.0 * np.sin(paw_phase), 290.0 - 135.0 * paw])
            c[1] += 6.0 * np.cos(paw_phase)
            parts["paw_arm"] = np.array([c + (-15, 8), c + (17, 8), c + (45, 150), c + (5, 150)])
            parts["paw_palm"] = ellipse_points(c, (18.0, 24.0), 100.0, 24)
            parts["paw_digits"] = np.stack(
                [ellipse_points(c + (d, -23 + abs(d) * 0.3), (4.5, 6.5), 0, 10)
                 for d in (-13.0, -4.5, 4.5, 13.0)]
            )  # fmt: skip

        # one transform for all points: reference -> frame (+ jitter) -> fixed point
        jit = None if not (dx or dy or rotation) else self.jitter_transform(dx, dy, rotation)
        flat_pts = np.concatenate([np.reshape(p, (-1, 2)) for p in parts.values()])
        frame_pts = self.to_frame(flat_pts, jit)
        fixed_pts = np.round(frame_pts * 16.0).astype(np.int32)
        points, fixed, i = {}, {}, 0
        for name, p in parts.items():
            n = p.size // 2
            points[name] = frame_pts[i : i + n].reshape(p.shape)
            fixed[name] = fixed_pts[i : i + n].reshape(p.shape)
            i += n
        return Shapes(points=points, fixed=fixed, eye_open=openness, px=self.px)

    def face_box(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` of the face in the frame: snout tip to behind the ear, ear tip to
        throat, with a margin; clipped to the frame, even width and height."""
        pts = self.shapes(np.zeros(len(AU_NAMES))).points
        x0 = min(pts["head"][:, 0].min(), pts["nose"][:, 0].min()) - 10 * self.px
        y0 = pts["ear"][:, 1].min() - 8 * self.px
        x1 = pts["ear"][:, 0].max() + 22 * self.px
        y1 = self.to_frame(self._outline[_I["jaw"]])[1] + 14 * self.px
        h, w = size
        x0, y0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        x1, y1 = min(int(np.ceil(x1)), w), min(int(np.ceil(y1)), h)
        return x0, y0, (x1 - x0) // 2 * 2, (y1 - y0) // 2 * 2


_T = np.linspace(0.0, 2 * np.pi, 32, endpoint=False)
_EAR_U = 0.5 * (1.0 - np.cos(_T))
_EAR_V = np.sin(_T) * (0.55 + 0.45 * _EAR_U)
_DOT = 1.4 * _CIRCLES[10]  # whisker follicle dot, reference px
