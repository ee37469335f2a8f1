"""Align a face image to a reference face: translation, rotation and scale.

Convention
----------
A :class:`Transform` maps the *image* onto the *reference*. With pixel coordinates
``p = (x, y)`` (``x`` to the right, ``y`` down) and centres ``c = ((w - 1) / 2, (h - 1) / 2)``,
a point ``p`` of the image lands at::

    p_ref = scale * R(rotation) @ (p - c_image) + c_reference + (dx, dy)

where ``R(rotation)`` turns by ``rotation`` degrees counter-clockwise as seen on screen (the
convention of ``cv2.getRotationMatrix2D``). ``apply_transform(image, t)`` resamples the
image into the reference frame, so ``apply_transform(image, estimate_transform(image,
reference))`` looks like ``reference``. If ``reference = apply_transform(image, t)`` then
``estimate_transform(image, reference)`` recovers ``t`` and
``apply_transform(reference, t.inverse())`` gives back ``image`` (inside the borders).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from mouseface.errors import InputError
from mouseface.face import _register

__all__ = ["Transform", "apply_transform", "estimate_transform"]

#: Default coarse scale candidates of :func:`estimate_transform` (refined continuously).
DEFAULT_SCALES: tuple[float, ...] = (0.9, 0.95, 1.0, 1.05, 1.1)
#: Smallest fraction of the reference the aligned image must cover to be accepted.
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class Transform:
    """Similarity transform that maps an image onto a reference (see the module docstring).

    Attributes
    ----------
    dy, dx : float
        Translation in pixels (down, right) of the image centre relative to the reference
        centre, after rotation and scaling.
    rotation : float
        Counter-clockwise rotation in degrees, about the image centre.
    scale : float
        Magnification (> 0) applied to the image.
    score : float
        Normalised cross-correlation of the aligned image with the reference, in
        ``[-1, 1]``; ``nan`` when the transform was not estimated.
    """

    dy: float = 0.0
    dx: float = 0.0
    rotation: float = 0.0
    scale: float = 1.0
    score: float = float("nan")

    def __post_init__(self) -> None:
        values = (self.dy, self.dx, self.rotation, self.scale)
        if not all(math.isfinite(float(v)) for v in values) or not float(self.scale) > 0:
            raise InputError(
                f"Transform(dy={self.dy}, dx={self.dx}, rotation={self.rotation}, "
                f"scale={self.scale}) is invalid: values must be finite and scale > 0."
            )

    def matrix(
        self, input_shape: Sequence[int], output_shape: Sequence[int] | None = None
    ) -> np.ndarray:
        """Forward 2x3 affine matrix (image pixel -> reference pixel) for ``cv2.warpAffine``.

        Parameters
        ----------
        input_shape : sequence of int
            ``(h, w)`` of the image.
        output_shape : sequence of int, optional
            ``(h, w)`` of the reference frame; defaults to ``input_shape``.

        Returns
        -------
        ndarray, shape (2, 3), float64
        """
        out = input_shape if output_shape is None else output_shape
        return _register.forward_matrix(
            self.dy, self.dx, self.rotation, self.scale, input_shape[:2], out[:2]
        )

    def inverse(self) -> Transform:
        """The transform that maps the reference back onto the image (score kept)."""
        theta = math.radians(self.rotation)
        cos, sin = math.cos(theta), math.sin(theta)
        # d' = -(1/s) R(-theta) d, with R(t) = [[cos, sin], [-sin, cos]] acting on (x, y).
        dx = -(cos * self.dx - sin * self.dy) / self.scale
        dy = -(sin * self.dx + cos * self.dy) / self.scale
        return Transform(
            dy=dy, dx=dx, rotation=-self.rotation, scale=1.0 / self.scale, score=self.score
        )

    def as_dict(self) -> dict[str, float]:
        """Plain ``dict`` of the fields (for provenance and dataset attributes)."""
        return {k: float(v) for k, v in asdict(self).items()}


def apply_transform(
    image: np.ndarray,
    t: Transform,
    *,
    output_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Resample ``image`` into the reference frame of ``t`` (bilinear, borders replicated).

    Parameters
    ----------
    image : ndarray, shape (h, w) or (h, w, c)
        Image of any dtype ``cv2.warpAffine`` takes (uint8, uint16, float32, float64).
    t : Transform
        Transform mapping the image onto the reference.
    output_shape : sequence of int, optional
        ``(h, w)`` of the output (the reference); defaults to the image's ``(h, w)``.

    Returns
    -------
    ndarray, shape output_shape (+ channels), same dtype as ``image``
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"apply_transform needs a non-empty (h, w) image; got {image.shape}.")
    if not isinstance(t, Transform):
        raise InputError(f"apply_transform needs a Transform; got {type(t).__name__}.")
    out = image.shape[:2] if output_shape is None else tuple(int(v) for v in output_shape[:2])
    if len(out) != 2 or min(out) < 1:
        raise InputError(f"output_shape {output_shape!r} must be (height, width) >= 1.")
    return _register.warp(image, t.matrix(image.shape[:2], out), out)


def estimate_transform(
    image: np.ndarray,
    reference: np.ndarray,
    *,
    max_rotation: float = 45.0,
    rotation_step: float = 2.0,
    scales: Sequence[float] = DEFAULT_SCALES,
    upsample: int = 20,
    min_score: float = 0.4,
    max_size: int = 512,
) -> Transform:
    """Estimate the similarity transform that maps ``image`` onto ``reference``.

    Coarse search: on copies shrunk to 128 pixels, every rotation in
    ``-max_rotation..max_rotation`` (step ``rotation_step``) and every scale in ``scales``
    is tried; for each, the translation comes from phase correlation and the candidate is
    scored by normalised cross-correlation (NCC) over the overlap. Fine stage: on copies
    of at most ``max_size`` pixels, translation by upsampled phase correlation, then all
    four parameters are refined together by maximising the NCC (Nelder-Mead), which is
    not limited to the coarse grid.

    Parameters
    ----------
    image, reference : ndarray, shape (h, w), numeric
        Gray images, at least 16x16; their shapes may differ (centres are matched).
    max_rotation : float, optional
        Largest rotation searched, in degrees (0..180).
    rotation_step : float, optional
        Coarse rotation grid step in degrees (> 0).
    scales : sequence of float, optional
        Coarse scale candidates (> 0).
    upsample : int, optional
        Phase-correlation upsampling factor (translation resolution ``1 / upsample`` px
        before the NCC refinement).
    min_score : float, optional
        Smallest acceptable NCC after alignment.
    max_size : int, optional
        Long side, in pixels, the fine stage works at (larger images are shrunk).

    Returns
    -------
    Transform
        With ``score`` the NCC after alignment.

    Raises
    ------
    InputError
        For empty, non-2-D, too small or non-finite images, bad options, or when the
        aligned NCC is below ``min_score`` (the reference is from another view or
        animal, or the ROI is wrong).
    """
    img, ref = _checked_pair(image, reference)
    if not 0.0 <= max_rotation <= 180.0 or not rotation_step > 0:
        raise InputError(
            f"max_rotation={max_rotation} must be in 0..180 degrees and "
            f"rotation_step={rotation_step} > 0."
        )
    scale_list = [float(s) for s in scales]
    if not scale_list or not all(math.isfinite(s) and s > 0 for s in scale_list):
        raise InputError(f"scales={scales!r} must be a non-empty list of positive numbers.")
    if int(upsample) < 1 or int(max_size) < 32:
        raise InputError(f"upsample={upsample} must be >= 1 and max_size={max_size} >= 32.")
    if img.shape != ref.shape:
        # Put the image centre on the reference centre: exact under the convention.
        img = _register.warp(img, Transform().matrix(img.shape, ref.shape), ref.shape)
    angles = _register.angle_grid(float(max_rotation), float(rotation_step))
    dy, dx, rot, scale = _register.coarse_search(img, ref, angles, scale_list)
    (dy, dx, rot, scale), score, overlap = _register.refine(
        img,
        ref,
        (dy, dx, rot, scale),
        upsample=int(upsample),
        max_size=int(max_size),
        max_rotation=float(max_rotation) + max(float(rotation_step), 5.0),
        scale_range=(min(scale_list) / 1.25, max(scale_list) * 1.25),
    )
    if not score >= min_score or overlap < MIN_OVERLAP:
        raise InputError(
            f"the image does not match the reference face: NCC score {score:.3f} "
            f"(min_score={min_score}) over {100 * overlap:.0f}% of the reference (need "
            f">= {100 * MIN_OVERLAP:.0f}%) after the best alignment. The reference face is "
            "probably from another camera view or animal, or the ROI is wrong; check both "
            "crops (e.g. with `mouseface roi`) or lower min_score."
        )
    return Transform(dy=dy, dx=dx, rotation=rot, scale=scale, score=score)


def _checked_pair(image: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate both images and return them as float32 arrays."""
    out = []
    for name, arr in (("image", image), ("reference", reference)):
        a = np.asarray(arr)
        if a.size == 0:
            raise InputError(f"{name} is empty (shape {a.shape}); pass a cropped gray face.")
        if a.ndim != 2:
            raise InputError(
                f"{name} has shape {a.shape}; registration needs 2-D gray images (h, w) for "
                "both image and reference: convert colour frames to gray, pass one frame."
            )
        if min(a.shape) < 16:
            raise InputError(f"{name} of shape {a.shape} is too small; need at least 16x16.")
        if not (np.issubdtype(a.dtype, np.number) and not np.iscomplexobj(a)):
            raise InputError(f"{name} has dtype {a.dtype}; need real numbers (e.g. uint8).")
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise InputError(f"{name} contains NaN or infinite values; clean it first.")
        out.append(a)
    return out[0], out[1]
