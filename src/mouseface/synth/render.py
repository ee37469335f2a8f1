"""Render a grayscale infrared-look side view of a head-fixed mouse face (snout to the left).

:class:`FaceRenderer` precomputes an animal's fur texture, background and a bank of sensor-noise
frames once; :meth:`FaceRenderer.render` then draws one frame from the action units and the
nuisance parameters with anti-aliased OpenCV primitives: head and snout outline over the fur,
pinna, eye with corneal glint, nose tip, whisker pad and cheek, whiskers, mouth and lower jaw,
tongue (licking) and a grooming paw. Head jitter (sub-pixel translation and rotation) moves
every outline (the fur texture follows by whole pixels; background and lick spout stay still);
illumination gain and sensor noise come last. A 240 x 320 frame takes under 1 ms.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from mouseface.errors import InputError
from mouseface.synth._geometry import FaceModel, Shapes
from mouseface.synth.anatomy import Anatomy
from mouseface.synth.profiles import AU_NAMES, au_vector

__all__ = ["FaceRenderer"]

_SHIFT = 4  # fixed-point bits of the drawing coordinates (1/16 px)
_AA = cv2.LINE_AA
_N_NOISE = 16
_FUR_PAD = 4  # pixels of fur texture around the frame, for the jitter
_CHEEK = AU_NAMES.index("cheek_bulge")
_BULGE = AU_NAMES.index("nose_bulge")
_TIGHT = AU_NAMES.index("eye_close")


def _ip(p: np.ndarray) -> np.ndarray:
    """Frame coordinates -> int32 fixed-point points for OpenCV drawing with ``shift=4``."""
    return np.round(np.asarray(p) * (1 << _SHIFT)).astype(np.int32)


def _g(value: float) -> tuple[float]:
    """A gray level as an OpenCV colour, clipped to 0..255."""
    return (float(min(max(value, 0.0), 255.0)),)


class FaceRenderer:
    """Renders frames of one animal.

    Parameters
    ----------
    anatomy : Anatomy
        The animal (see :func:`mouseface.synth.random_anatomy`).
    size : tuple of int, optional
        Frame ``(height, width)`` in pixels, each >= 48 (default ``(240, 320)``).
    noise_sd : float, optional
        Standard deviation of the Gaussian sensor noise, gray levels (default 3).

    Attributes
    ----------
    face_box : tuple of int
        ``(x, y, w, h)`` of the face in the frame (the ROI), in pixels.
    """

    def __init__(
        self, anatomy: Anatomy, *, size: tuple[int, int] = (240, 320), noise_sd: float = 3.0
    ) -> None:
        if len(size) != 2 or min(size) < 48:
            raise InputError(f"FaceRenderer: size must be (height, width) >= 48 px, got {size}")
        if noise_sd < 0:
            raise InputError(f"FaceRenderer: noise_sd must be >= 0, got {noise_sd}")
        self.anatomy = anatomy
        self.size = (int(size[0]), int(size[1]))
        self._model = FaceModel(anatomy, self.size)
        h, w = self.size
        rng = np.random.default_rng(anatomy.seed)
        self._bg = self._background(rng)
        self._fur = self._fur_texture(rng)
        self._bg_plus_128 = (self._bg + 128.0).astype(np.float32)
        noise = rng.normal(128.0, noise_sd, (_N_NOISE, h, w))
        self._noise = np.clip(np.round(noise), 0, 255).astype(np.uint8)
        self._shade0 = np.full((h, w), 128, np.uint8)
        self.face_box = self._model.face_box(self.size)
        mouth = self._model.shapes(np.zeros(len(AU_NAMES))).points["mouth"]
        lip = (mouth[0] + mouth[2]) / 2
        k = self._model.k
        spout = _ip(np.array([lip + (-9 * k, 5 * k), lip + (-60 * k, 30 * k)]))
        self._spout = (tuple(int(v) for v in spout[0]), tuple(int(v) for v in spout[1]))
        self._spout_width = max(int(round(5 * k)), 2)

    # ------------------------------------------------------------------ textures
    def _background(self, rng: np.random.Generator) -> np.ndarray:
        h, w = self.size
        k = self._model.k
        y = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
        x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
        bg = self.anatomy.background * (1.0 + 0.15 * y - 0.1 * (x * x + y * y))
        blotch = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 12 * k)
        return (bg + 4.0 * blotch / (blotch.std() + 1e-6)).astype(np.float32)

    def _fur_texture(self, rng: np.random.Generator) -> np.ndarray:
        """Fur gray levels float32 ``(h + 2 * _FUR_PAD, w + 2 * _FUR_PAD)``: base, patches,
        strands along the fur flow; padded so that it can follow the head jitter."""
        h, w = self.size[0] + 2 * _FUR_PAD, self.size[1] + 2 * _FUR_PAD
        a = self.anatomy
        k = self._model.k
        low = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 4 * k)
        low *= 0.35 * a.fur_contrast / (low.std() + 1e-6)
        strands = np.full((h, w), 128, np.uint8)
        n = int(h * w / 12)
        xy = rng.uniform(0, 1, (n, 2)) * (w, h)
        ang = np.deg2rad(rng.normal(10.0, 25.0, n))  # fur flows back from the snout
        length = a.fur_grain * k * rng.uniform(0.6, 1.4, n)
        end = xy + length[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)
        level = np.clip(128 + rng.normal(0, a.fur_contrast, n), 0, 255)
        for p, q, v in zip(_ip(xy), _ip(end), level, strict=True):
            cv2.line(strands, tuple(p), tuple(q), (float(v),), 1, _AA, _SHIFT)
        y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        fur = a.fur * (1.08 - 0.16 * y) + low + (strands.astype(np.float32) - 128.0)
        return fur.astype(np.float32)

    # ------------------------------------------------------------------ drawing
    def shapes(self, au: np.ndarray | Mapping[str, float] | None = None, **kw: float) -> Shapes:
        """Outlines of a frame in pixels (see :meth:`render` for the arguments)."""
        return self._model.shapes(self._au(au), **kw)

    @staticmethod
    def _au(au: np.ndarray | Mapping[str, float] | None) -> np.ndarray:
        if au is None:
            return np.zeros(len(AU_NAMES))
        arr = np.asarray(au_vector(au) if isinstance(au, Mapping) else au, dtype=np.float64)
        if arr.shape != (len(AU_NAMES),) or not np.all(np.isfinite(arr)):
            raise InputError(
                f"action units must be finite with shape ({len(AU_NAMES)},) in the order "
                f"{list(AU_NAMES)}, got shape {arr.shape}"
            )
        return np.clip(arr, -2.0, 2.0)

    def render(
        self,
        au: np.ndarray | Mapping[str, float] | None = None,
        *,
        blink: float = 0.0,
        tongue: float = 0.0,
        paw: float = 0.0,
        paw_phase: float = 0.0,
        dx: float = 0.0,
        dy: float = 0.0,
        rotation: float = 0.0,
        gain: float = 1.0,
        noise: int | None = None,
        shapes: Shapes | None = None,
    ) -> np.ndarray:
        """Draw one frame.

        Parameters
        ----------
        au : numpy.ndarray, mapping or None, optional
            Action units, shape ``(len(AU_NAMES),)`` in :data:`~mouseface.synth.AU_NAMES`
            order, or a ``{name: value}`` mapping; ``None`` is the neutral face.
        blink : float, optional
            Eyelid closure by a blink, 0 (open) .. 1 (closed).
        tongue : float, optional
            Tongue protrusion while licking, 0 .. 1 (also opens the jaw a little).
        paw : float, optional
            How far a grooming forepaw reaches over the snout, 0 (absent) .. 1.
        paw_phase : float, optional
            Phase of the grooming stroke, radians (moves the paw).
        dx, dy : float, optional
            Head translation, pixels (sub-pixel allowed).
        rotation : float, optional
            Head rotation about the eye, degrees (counter-clockwise).
        gain : float, optional
            Illumination gain (1 = reference).
        noise : int or None, optional
            Index of the sensor-noise frame to add (any int, taken modulo the bank size);
            ``None`` adds no noise.
        shapes : Shapes or None, optional
            The frame's outlines when already computed by :meth:`shapes` with the same
            arguments (saves computing them twice).

        Returns
        -------
        numpy.ndarray
            uint8 ``(height, width)`` gray frame.
        """
        a = self.anatomy
        units = self._au(au)
        u = units.tolist()
        sh = (
            shapes
            if shapes is not None
            else self._model.shapes(
                units,
                blink=blink,
                tongue=tongue,
                paw=paw,
                paw_phase=paw_phase,
                dx=dx,
                dy=dy,
                rotation=rotation,
            )
        )
        h, w = self.size
        px = sh.px
        q = sh.fixed

        # additive shading of the fur: whisker pad, cheek, nose bridge, orbit, follicles
        shade = self._shade0.copy()
        cv2.fillPoly(shade, [q["pad"]], _g(138), _AA, _SHIFT)
        cheek = min(max(u[_CHEEK], 0.0), 1.5)
        cv2.fillPoly(shade, [q["cheek"]], _g(133 + 14 * cheek), _AA, _SHIFT)
        if cheek > 0.05:
            thick = max(int(round(2 * px)), 1)
            cv2.polylines(shade, [q["cheek_rim"]], False, _g(128 - 40 * cheek), thick, _AA,
                          _SHIFT)  # fmt: skip
        bulge = min(max(u[_BULGE], 0.0), 1.5)
        if bulge > 0.05:
            axes = (int(round(10 * px * 16)), int(round(4 * px * 16)))
            cv2.ellipse(shade, tuple(q["bridge"]), axes, -40, 0, 360, _g(128 + 30 * bulge), -1,
                        _AA, _SHIFT)  # fmt: skip
        tight = min(max(u[_TIGHT], 0.0), 1.5)
        cv2.fillPoly(shade, [q["eye_rim"]], _g(104 - 30 * tight), _AA, _SHIFT)
        if tight > 0.1:
            cv2.polylines(shade, list(q["creases"]), False, _g(128 - 70 * tight), 1, _AA,
                          _SHIFT)  # fmt: skip
        cv2.fillPoly(shade, list(q["follicles"]), _g(105), _AA, _SHIFT)

        # head silhouette over the static background; the fur moves with the head (whole px)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [q["head"]], (255,), _AA, _SHIFT)
        alpha = mask.astype(np.float32)
        alpha *= 1.0 / 255.0
        p = _FUR_PAD
        ox = p - min(max(int(round(float(dx))), -p), p)
        oy = p - min(max(int(round(float(dy))), -p), p)
        img = self._fur[oy : oy + h, ox : ox + w] + shade
        img -= self._bg_plus_128
        img *= alpha
        img += self._bg_plus_128
        img -= 128.0
        out = cv2.convertScaleAbs(img)

        # parts drawn on top
        eb = a.ear_brightness
        cv2.fillPoly(out, [q["ear"]], _g(eb), _AA, _SHIFT)
        cv2.fillPoly(out, [q["ear_inner"]], _g(eb - 45), _AA, _SHIFT)
        cv2.polylines(out, [q["ear"]], True, _g(eb - 75), 1, _AA, _SHIFT)
        cv2.fillPoly(out, [q["eye"]], _g(14), _AA, _SHIFT)
        if sh.eye_open > 0.35:
            r = int(round(1.8 * px * 16))
            cv2.circle(out, tuple(q["glint"]), r, _g(235), -1, _AA, _SHIFT)
        cv2.fillPoly(out, [q["nose"]], _g(a.fur - 50), _AA, _SHIFT)
        cv2.fillPoly(out, [q["nostril"]], _g(12), _AA, _SHIFT)
        cv2.fillPoly(out, [q["mouth"]], _g(18), _AA, _SHIFT)
        cv2.polylines(out, [q["mouth"][:2]], False, _g(20), 1, _AA, _SHIFT)
        if "tongue" in q:
            cv2.fillPoly(out, [q["tongue"]], _g(a.fur + 55), _AA, _SHIFT)
        cv2.polylines(out, list(q["whiskers"]), False, _g(a.whisker_brightness), 1, _AA,
                      _SHIFT)  # fmt: skip
        if "paw_palm" in q:
            polys = [q["paw_arm"], q["paw_palm"], *q["paw_digits"]]
            cv2.fillPoly(out, polys, _g(a.fur + 40), _AA, _SHIFT)
            cv2.polylines(out, polys, True, _g(a.fur - 10), 1, _AA, _SHIFT)

        # the lick spout is fixed to the rig: drawn after the head motion
        sp = self._spout
        cv2.line(out, sp[0], sp[1], _g(150), self._spout_width, _AA, _SHIFT)
        cv2.line(out, sp[0], sp[1], _g(205), 1, _AA, _SHIFT)

        if noise is not None:
            out = cv2.addWeighted(out, float(gain), self._noise[noise % _N_NOISE], 1.0, -128.0)
        elif gain != 1.0:
            out = cv2.convertScaleAbs(out, alpha=float(gain))
        return out
