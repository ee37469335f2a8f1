"""Render frames of one animal from real face footage: action units as warps, plus nuisances.

:class:`RealFaceRenderer` precomputes, for one animal (a real identity seen through a
:class:`Variant`: crop offset, scale, contrast/gamma, mirror), the map from output pixels to
footage pixels, the unit displacement field of every action unit (:func:`~mouseface.synth.warp.
unit_fields`) restricted to the box where it moves pixels, the head roll and yaw fields and a
bank of sensor-noise frames. :meth:`RealFaceRenderer.render` then takes a footage frame (the
real mouse's own motion), adds ``sum_k a_k * field_k`` and the head jitter to the map, resamples
it with ``cv2.remap`` (bilinear), closes the eyelid for blinks, draws the tongue (licking) and a
grooming forepaw over the snout, and applies contrast/gamma, illumination gain and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mouseface.errors import InputError
from mouseface.synth.faces import FaceFootage
from mouseface.synth.landmarks import LANDMARK_NAMES, Landmarks, find_landmarks
from mouseface.synth.profiles import AU_NAMES
from mouseface.synth.warp import unit_fields

__all__ = ["RealFaceRenderer", "Variant"]

_N_NOISE = 16
_MIN_MOVE = 0.05  # output px: a unit field is stored only where it moves pixels this much


@dataclass(frozen=True)
class Variant:
    """How an animal sees its real identity (variant 0 of an identity is the footage as is).

    Attributes
    ----------
    scale : float
        Zoom (> 1 = face larger in the frame).
    offset : tuple of float
        ``(dx, dy)`` shift of the crop, as fractions of the footage width and height.
    gamma : float
        Gamma of the gray levels (``out = 255 * (v / 255) ** gamma``).
    contrast : float
        Contrast about mid-gray (1 = unchanged).
    mirror : bool
        Mirror left-right (the animal then faces right).
    """

    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)
    gamma: float = 1.0
    contrast: float = 1.0
    mirror: bool = False


class RealFaceRenderer:
    """Renders frames of one animal made from real footage.

    Parameters
    ----------
    footage : FaceFootage
        Neutral footage of the real mouse (snout to the left).
    size : tuple of int, optional
        Output frame ``(height, width)`` in pixels (default ``(240, 320)``).
    variant : Variant, optional
        Crop, zoom, contrast and mirror of this animal (default: the footage as is).
    landmarks : Landmarks or None, optional
        Landmarks of the footage's median face; found with
        :func:`~mouseface.synth.landmarks.find_landmarks` when ``None``.
    noise_sd : float, optional
        Sensor noise, gray levels (default 3).
    seed : int, optional
        Seed of the noise bank.

    Attributes
    ----------
    landmarks : Landmarks
        Landmarks in footage pixels.
    face_box : tuple of int
        ``(x, y, w, h)`` of the face in the output frame, pixels.
    scale_out : float
        Eye-to-nose distance in output pixels.

    Raises
    ------
    mouseface.errors.InputError
        If the landmarks cannot be found or the size is too small.
    """

    def __init__(
        self,
        footage: FaceFootage,
        *,
        size: tuple[int, int] = (240, 320),
        variant: Variant = Variant(),
        landmarks: Landmarks | None = None,
        noise_sd: float = 3.0,
        seed: int = 0,
    ) -> None:
        if len(size) != 2 or min(size) < 48:
            raise InputError(f"RealFaceRenderer: size must be (height, width) >= 48, got {size}")
        self.footage = footage
        self.size = (int(size[0]), int(size[1]))
        self.variant = variant
        self.landmarks = landmarks or find_landmarks(footage.median(), name=footage.identity)
        h, w = self.size
        fh, fw = footage.frames.shape[1:]
        # output pixel p -> footage q = c_s + k * M (p - c_o)
        self._k = min(fw / w, fh / h) / variant.scale
        self._m = -1.0 if variant.mirror else 1.0
        off = variant.offset
        self._cs = np.array([(fw - 1) / 2 + off[0] * fw, (fh - 1) / 2 + off[1] * fh])
        self._co = np.array([(w - 1) / 2, (h - 1) / 2])
        px, py = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
        qx = self._cs[0] + self._k * self._m * (px - self._co[0])
        qy = self._cs[1] + self._k * (py - self._co[1])
        self._px = np.arange(w, dtype=np.float32)
        self._py = np.arange(h, dtype=np.float32)
        # unit fields at the output grid, as offsets of the footage sampling point (-v)
        fields = unit_fields(self.landmarks, qx, qy)
        self._fields: list[tuple | None] = []
        for j in range(len(AU_NAMES)):
            fx, fy = -fields[j, 0], -fields[j, 1]
            moving = np.maximum(np.abs(fx), np.abs(fy)) > _MIN_MOVE * self._k
            if not moving.any():
                self._fields.append(None)
                continue
            ys, xs = np.nonzero(moving)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            self._fields.append(
                (y0, y1, x0, x1, np.ascontiguousarray(fx[y0:y1, x0:x1]),
                 np.ascontiguousarray(fy[y0:y1, x0:x1]))
            )  # fmt: skip
        self._eye_out = self.to_output(np.array([self.landmarks.points["eye"]]))[0]
        pts = self.to_output(self.landmarks.array())
        self.scale_out = self.landmarks.scale / self._k
        lo, hi = pts.min(axis=0) - 0.45 * self.scale_out, pts.max(axis=0) + 0.45 * self.scale_out
        lo = np.clip(np.floor(lo), 0, [w - 2, h - 2]).astype(int)
        hi = np.clip(np.ceil(hi), lo + 2, [w, h]).astype(int)
        self.face_box = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1]))
        rng = np.random.default_rng(seed)
        noise = rng.normal(128.0, noise_sd, (_N_NOISE, h, w))
        self._noise = np.clip(np.round(noise), 0, 255).astype(np.uint8)
        lut = np.arange(256, dtype=np.float64) / 255.0
        lut = 128.0 + variant.contrast * (255.0 * lut**variant.gamma - 128.0)
        self._lut = np.clip(np.round(lut), 0, 255).astype(np.uint8)
        self._identity_lut = variant.gamma == 1.0 and variant.contrast == 1.0
        med = footage.median()
        r = self.landmarks.eye_radius
        ex, ey = self.landmarks.points["eye"]
        ring = [
            med[int(np.clip(ey + 2.5 * r * np.sin(a), 0, fh - 1)),
                int(np.clip(ex + 2.5 * r * np.cos(a), 0, fw - 1))]
            for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)
        ]  # fmt: skip
        self._fur = float(np.median(ring))
        self._eye_r_out = r / self._k

    # ------------------------------------------------------------------ geometry
    def to_output(self, q: np.ndarray) -> np.ndarray:
        """Footage points ``(n, 2)`` (x, y) -> output frame points ``(n, 2)``."""
        q = np.asarray(q, dtype=np.float64)
        d = (q - self._cs) / self._k
        d[:, 0] *= self._m
        return d + self._co

    def landmarks_at(
        self,
        au: np.ndarray,
        *,
        dx: float = 0.0,
        dy: float = 0.0,
        rotation: float = 0.0,
        yaw: float = 0.0,
    ) -> np.ndarray:
        """Output positions ``(len(LANDMARK_NAMES), 2)`` (x, y) of the landmarks of one frame
        (see :meth:`landmark_track`)."""
        one = np.ones(1)
        au = np.asarray(au, dtype=np.float64)[None, :]
        return self.landmark_track(au, dx=dx * one, dy=dy * one, rotation=rotation * one,
                                   yaw=yaw * one)[0]  # fmt: skip

    def landmark_track(
        self,
        au: np.ndarray,
        *,
        dx: np.ndarray,
        dy: np.ndarray,
        rotation: np.ndarray,
        yaw: np.ndarray,
        points: np.ndarray | None = None,
    ) -> np.ndarray:
        """Output positions of the landmarks in every frame, to first order in the warps.

        Parameters
        ----------
        au : numpy.ndarray
            ``(n, len(AU_NAMES))`` action units per frame.
        dx, dy, rotation, yaw : numpy.ndarray
            ``(n,)`` head jitter per frame (as in :meth:`render`).
        points : numpy.ndarray or None, optional
            ``(m, 2)`` other points (x, y) of the footage to follow instead of the landmarks.

        Returns
        -------
        numpy.ndarray
            float64 ``(n, len(LANDMARK_NAMES), 2)`` (or ``(n, m, 2)``): x, y in output pixels.
            The real mouse's own motion in the footage is not included.
        """
        q0 = self.landmarks.array() if points is None else np.asarray(points, dtype=np.float64)
        f = unit_fields(self.landmarks, q0[:, 0], q0[:, 1]).astype(np.float64)
        q = q0[None] + np.einsum("nk,kdp->npd", np.asarray(au, dtype=np.float64), f)
        n, npts = q.shape[:2]
        p = self.to_output(q.reshape(-1, 2)).reshape(n, npts, 2)
        rel = p - self._eye_out
        th = np.deg2rad(np.asarray(rotation, dtype=np.float64))[:, None]
        x = p[..., 0] + th * rel[..., 1] + np.asarray(yaw)[:, None] * rel[..., 0]
        y = p[..., 1] - th * rel[..., 0]
        return np.stack([x + np.asarray(dx)[:, None], y + np.asarray(dy)[:, None]], axis=-1)

    # ------------------------------------------------------------------ rendering
    def map(
        self,
        au: np.ndarray,
        *,
        dx: float = 0.0,
        dy: float = 0.0,
        rotation: float = 0.0,
        yaw: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Footage coordinates sampled by each output pixel: float32 ``(h, w)`` x and y maps.

        The head jitter (translation ``dx, dy`` in output px, roll ``rotation`` in degrees about
        the eye, ``yaw`` as a horizontal stretch about the eye) is an affine map, built from one
        row and one column vector; the action units add their fields where they move pixels.
        """
        k, m = self._k, self._m
        th = float(np.deg2rad(rotation))
        ex, ey = self._eye_out
        (cx, cy), (ox, oy) = self._cs, self._co
        # output p samples content at p' = p - t - th * (py - ey, -(px - ex)) - yaw * (px - ex, 0)
        row_x = (cx + k * m * (-dx + th * ey + yaw * ex - ox)) + k * m * (1.0 - yaw) * self._px
        col_x = -k * m * th * self._py
        row_y = k * th * self._px
        col_y = (cy + k * (-dy - th * ex - oy)) + k * self._py
        f32 = np.float32
        mx = row_x.astype(f32)[None, :] + col_x.astype(f32)[:, None]
        my = row_y.astype(f32)[None, :] + col_y.astype(f32)[:, None]
        for a, f in zip(np.asarray(au, dtype=np.float64).tolist(), self._fields, strict=True):
            if f is None or a == 0.0:  # exactly linear: no amplitude is too small to add
                continue
            y0, y1, x0, x1, fx, fy = f
            vx, vy = mx[y0:y1, x0:x1], my[y0:y1, x0:x1]
            cv2.scaleAdd(fx, float(a), vx, dst=vx)
            cv2.scaleAdd(fy, float(a), vy, dst=vy)
        return mx, my

    def render(
        self,
        base: np.ndarray,
        au: np.ndarray | None = None,
        *,
        blink: float = 0.0,
        tongue: float = 0.0,
        paw: float = 0.0,
        paw_phase: float = 0.0,
        dx: float = 0.0,
        dy: float = 0.0,
        rotation: float = 0.0,
        yaw: float = 0.0,
        gain: float = 1.0,
        noise: int | None = None,
    ) -> np.ndarray:
        """Render one frame.

        Parameters
        ----------
        base : numpy.ndarray
            uint8 ``(fh, fw)`` footage frame (the real mouse at this moment).
        au : numpy.ndarray or None, optional
            Action units ``(len(AU_NAMES),)``; ``None`` = neutral.
        blink : float, optional
            Eyelid closure 0..1.
        tongue : float, optional
            Tongue protrusion 0..1 (licking).
        paw : float, optional
            How far a grooming forepaw covers the snout, 0..1.
        paw_phase : float, optional
            Phase of the grooming stroke, radians.
        dx, dy : float, optional
            Head translation, output pixels.
        rotation : float, optional
            Head roll about the eye, degrees.
        yaw : float, optional
            Head yaw as a horizontal stretch about the eye (0.03 = 3 % wider).
        gain : float, optional
            Illumination gain.
        noise : int or None, optional
            Index of the noise frame (modulo the bank); ``None`` = no noise.

        Returns
        -------
        numpy.ndarray
            uint8 ``(height, width)`` frame.
        """
        units = np.zeros(len(AU_NAMES)) if au is None else np.clip(np.asarray(au), -2.0, 2.0)
        mx, my = self.map(units, dx=dx, dy=dy, rotation=rotation, yaw=yaw)
        out = cv2.remap(base, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        eye = self._eye_out + np.array([dx, dy])
        if blink > 0.02:
            self._close_lid(out, eye, float(blink))
        if tongue > 0.02 or paw > 0.02:
            pts = self.landmarks_at(units, dx=dx, dy=dy, rotation=rotation, yaw=yaw)
            if tongue > 0.02:
                self._tongue(out, pts, float(tongue))
            if paw > 0.02:
                self._paw(out, pts, float(paw), float(paw_phase))
        if not self._identity_lut:
            out = cv2.LUT(out, self._lut)
        if noise is not None:
            out = cv2.addWeighted(out, float(gain), self._noise[noise % _N_NOISE], 1.0, -128.0)
        elif gain != 1.0:
            out = cv2.convertScaleAbs(out, alpha=float(gain))
        return out

    def _close_lid(self, out: np.ndarray, eye: np.ndarray, closure: float) -> None:
        """Blend the eye toward the surrounding fur: a lid coming down over it."""
        r = self._eye_r_out * 1.5
        h, w = out.shape
        x0, x1 = int(max(eye[0] - 2 * r, 0)), int(min(eye[0] + 2 * r + 1, w))
        y0, y1 = int(max(eye[1] - 2 * r, 0)), int(min(eye[1] + 2 * r + 1, h))
        if x1 <= x0 or y1 <= y0:
            return
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.hypot((xx - eye[0]) / r, (yy - eye[1]) / r)
        alpha = closure * np.clip(1.5 - d, 0.0, 1.0)
        patch = out[y0:y1, x0:x1].astype(np.float32)
        lid = self._fur * 0.92
        out[y0:y1, x0:x1] = np.clip(patch + alpha * (lid - patch), 0, 255).astype(np.uint8)

    def _tongue(self, out: np.ndarray, pts: np.ndarray, amount: float) -> None:
        s = self.scale_out
        mouth = pts[LANDMARK_NAMES.index("mouth")]
        nose = pts[LANDMARK_NAMES.index("nose")]
        d = nose - pts[LANDMARK_NAMES.index("eye")]
        d /= max(np.hypot(*d), 1e-6)
        c = mouth + d * 0.15 * s * amount + np.array([0.0, 0.05 * s])
        axes = (max(int(round(0.2 * s * (0.4 + amount))), 1), max(int(round(0.08 * s)), 1))
        ang = float(np.degrees(np.arctan2(d[1], d[0])))
        color = float(min(self._fur + 90.0, 210.0))
        cv2.ellipse(out, (int(round(c[0])), int(round(c[1]))), axes, ang, 0, 360, color, -1,
                    cv2.LINE_AA)  # fmt: skip

    def _paw(self, out: np.ndarray, pts: np.ndarray, reach: float, phase: float) -> None:
        """A pale forepaw coming up from below over the snout (soft edge)."""
        s = self.scale_out
        nose = pts[LANDMARK_NAMES.index("nose")]
        chin = pts[LANDMARK_NAMES.index("chin")]
        start = chin + np.array([0.2 * s, 1.2 * s])
        tip = nose + np.array([0.1 * s * np.sin(phase), 0.15 * s * np.cos(phase)])
        c = start + reach * (tip - start)
        h, w = out.shape
        rad = max(int(round(0.45 * s)), 2)
        x0, x1 = int(max(c[0] - 3 * rad, 0)), int(min(c[0] + 3 * rad, w))
        y0, y1 = int(max(c[1] - 3 * rad, 0)), int(min(max(start[1], c[1]) + 3 * rad, h))
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cc = (int(round(c[0] - x0)), int(round(c[1] - y0)))
        cv2.ellipse(mask, cc, (rad, int(rad * 0.8)), 30, 0, 360, 255, -1, cv2.LINE_AA)
        arm = (int(round(start[0] - x0)), int(round(start[1] - y0)))
        cv2.line(mask, cc, arm, 255, max(int(rad * 1.1), 1), cv2.LINE_AA)
        alpha = cv2.GaussianBlur(mask, (0, 0), max(rad / 4, 0.8)).astype(np.float32) / 255.0
        patch = out[y0:y1, x0:x1].astype(np.float32)
        color = 215.0  # forepaws are pale, brighter than fur and background
        out[y0:y1, x0:x1] = np.clip(patch + alpha * (color - patch), 0, 255).astype(np.uint8)
