"""Face region of interest: parse, validate, propose automatically and draw.

An ROI is a box ``(x, y, w, h)`` in pixels of the full video frame: ``x`` is the left column,
``y`` the top row, ``w`` the width and ``h`` the height, so the crop is
``frame[y:y + h, x:x + w]``. ``None`` means the whole frame and ``"auto"`` asks
:func:`propose_roi` for a box.
"""

from __future__ import annotations

import numbers
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from mouseface.errors import InputError
from mouseface.face._saliency import face_box

__all__ = ["MIN_ROI_SIZE", "check_roi", "parse_roi", "propose_roi", "save_roi_png"]

#: Smallest accepted ROI width and height in pixels.
MIN_ROI_SIZE = 8

_FORM = "expected 'x,y,w,h' in pixels (4 whole numbers, e.g. '120,40,320,240'), 'auto' or none"


def parse_roi(
    text: str | Sequence[int] | np.ndarray | None,
) -> tuple[int, int, int, int] | None | Literal["auto"]:
    """Parse an ROI given on the command line or in a config file.

    Parameters
    ----------
    text : str, sequence of 4 int, or None
        ``"x,y,w,h"`` (pixels; spaces allowed), a list/tuple/array of 4 whole numbers,
        ``"auto"`` (any case) or ``None`` for the whole frame.

    Returns
    -------
    tuple of 4 int, None or "auto"
        ``(x, y, w, h)`` with ``x, y >= 0`` and ``w, h >= 8``; ``None``; or ``"auto"``.

    Raises
    ------
    InputError
        For anything else; the message shows the value and the expected form.
    """
    if text is None:
        return None
    if isinstance(text, str):
        stripped = text.strip()
        if stripped.lower() == "auto":
            return "auto"
        parts = [p.strip() for p in stripped.split(",")]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise InputError(f"ROI {text!r} is not valid: {_FORM}.") from None
    elif isinstance(text, Sequence | np.ndarray) and not isinstance(text, bytes):
        items = list(np.asarray(text).ravel()) if isinstance(text, np.ndarray) else list(text)
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
            raise InputError(f"ROI {text!r} is not valid: {_FORM}.")
        values = [int(v) for v in items]
    else:
        raise InputError(f"ROI {text!r} (type {type(text).__name__}) is not valid: {_FORM}.")
    if len(values) != 4:
        raise InputError(f"ROI {text!r} has {len(values)} numbers, not 4: {_FORM}.")
    x, y, w, h = values
    if x < 0 or y < 0:
        raise InputError(f"ROI {text!r}: x and y must be >= 0 (top-left corner); {_FORM}.")
    if w < MIN_ROI_SIZE or h < MIN_ROI_SIZE:
        raise InputError(
            f"ROI {text!r}: width and height must be at least {MIN_ROI_SIZE} pixels; {_FORM}."
        )
    return (x, y, w, h)


def check_roi(
    roi: tuple[int, int, int, int] | Sequence[int] | None,
    frame_shape: Sequence[int],
    *,
    source: str | os.PathLike[str] = "",
) -> tuple[int, int, int, int]:
    """Check that an ROI lies inside a frame and return it as a tuple of int.

    Parameters
    ----------
    roi : tuple of 4 int or None
        ``(x, y, w, h)`` in pixels, or ``None`` for the whole frame. Strings are parsed
        with :func:`parse_roi`; ``"auto"`` must be resolved with :func:`propose_roi` first.
    frame_shape : sequence of int
        Frame shape ``(h, w)`` or ``(h, w, channels)`` in pixels.
    source : str or path-like, optional
        The video the frame comes from, named in error messages.

    Returns
    -------
    tuple of 4 int
        ``(x, y, w, h)`` with ``x + w <= frame width`` and ``y + h <= frame height``.

    Raises
    ------
    InputError
        If the ROI is malformed, smaller than 8 pixels or reaches outside the frame.
    """
    where = f" of {os.fspath(source)}" if os.fspath(source) else ""
    if len(frame_shape) < 2 or int(frame_shape[0]) < 1 or int(frame_shape[1]) < 1:
        raise InputError(f"frame shape {tuple(frame_shape)}{where} is not (height, width).")
    fh, fw = int(frame_shape[0]), int(frame_shape[1])
    if roi is None:
        return (0, 0, fw, fh)
    parsed = parse_roi(roi)
    if parsed is None or parsed == "auto":
        raise InputError(
            f"ROI 'auto' for the video{where} must be resolved first: call propose_roi on "
            "sampled frames (or run `mouseface roi VIDEO`) and pass the box it returns."
        )
    x, y, w, h = parsed
    if x + w > fw or y + h > fh:
        hint = f"`mouseface roi {os.fspath(source)}`" if where else "`mouseface roi VIDEO`"
        raise InputError(
            f"ROI x={x}, y={y}, w={w}, h={h} (pixels) does not fit inside the {fw}x{fh} "
            f"(width x height) frame{where}: it reaches x={x + w}, y={y + h}. Fix: choose "
            f"x + w <= {fw} and y + h <= {fh}, or let {hint} propose a box."
        )
    return (x, y, w, h)


def propose_roi(frames: np.ndarray, *, margin: float = 0.1) -> tuple[int, int, int, int]:
    """Propose a face box for a side-view video of a head-fixed mouse.

    The frames are shrunk to at most 200 pixels on their long side. A saliency map is
    built from the temporal standard deviation of the frames (the face moves: whiskers,
    nose, eye, ear; the background and the rig do not), on a log scale relative to the
    still background so that parts that move little (a head-fixed snout) still count.
    When the frames do not move (a single frame, a frozen video), fine texture (fur)
    is used instead. The map is thresholded (Otsu), cleaned by morphological opening and
    closing, and the connected region with the most saliency is kept. Its box (2 % of the
    saliency trimmed on each side, which drops thin whiskers and tails) is padded by
    ``margin``, clipped to the frame and given an even width and height.

    On close-up face videos the box covers the face; on whole-body side views it covers
    the animal (and so contains the face). Check it with :func:`save_roi_png`.

    Parameters
    ----------
    frames : ndarray, shape (n, h, w), uint8
        A sample of gray frames, e.g. ~100 frames spread over the video. ``h, w >= 8``.
    margin : float, optional
        Padding added on each side as a fraction of the box size, in ``[0, 1]``.

    Returns
    -------
    tuple of 4 int
        ``(x, y, w, h)`` in pixels, inside the frame, ``w`` and ``h`` even and >= 8
        (when the frame is at least 8 pixels wide and high).

    Raises
    ------
    InputError
        If ``frames`` is not a non-empty uint8 ``(n, h, w)`` array, ``margin`` is out of
        range, or the frames are uniform so that no face can be found.
    """
    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[0] < 1:
        raise InputError(
            f"propose_roi needs gray frames of shape (n, h, w); got shape {frames.shape}. "
            "Convert colour frames to gray and stack at least one frame."
        )
    if frames.dtype != np.uint8:
        raise InputError(f"propose_roi needs uint8 frames; got {frames.dtype}.")
    n, fh, fw = frames.shape
    if fh < MIN_ROI_SIZE or fw < MIN_ROI_SIZE:
        raise InputError(f"frames of {fw}x{fh} pixels are too small for an ROI (min 8x8).")
    if not 0.0 <= float(margin) <= 1.0:
        raise InputError(f"margin={margin!r} must be a fraction between 0 and 1.")
    box = face_box(frames)
    if box is None:
        raise InputError(
            "propose_roi found no face: the sampled frames are uniform (no texture or "
            "motion). Check the video, or give the ROI by hand as x,y,w,h in pixels."
        )
    return _pad_clip_even(box, float(margin), fh, fw)


def _pad_clip_even(
    box: tuple[float, float, float, float], margin: float, fh: int, fw: int
) -> tuple[int, int, int, int]:
    """Pad a float box ``(x0, y0, x1, y1)`` and return an even, clipped ``(x, y, w, h)``."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    xa, xb = _even_span(x0 - margin * bw, x1 + margin * bw, fw)
    ya, yb = _even_span(y0 - margin * bh, y1 + margin * bh, fh)
    return (xa, ya, xb - xa, yb - ya)


def _even_span(lo: float, hi: float, size: int) -> tuple[int, int]:
    """Integer span ``[a, b)`` inside ``[0, size)``, at least 8 long and of even length."""
    a = max(0, int(np.floor(lo)))
    b = min(size, int(np.ceil(hi)))
    while b - a < min(MIN_ROI_SIZE, size):
        if b < size:
            b += 1
        if b - a < MIN_ROI_SIZE and a > 0:
            a -= 1
    if (b - a) % 2:
        if b < size:
            b += 1
        elif a > 0:
            a -= 1
        else:
            b -= 1
    return a, b


def save_roi_png(
    path: str | os.PathLike[str],
    frame: np.ndarray,
    roi: tuple[int, int, int, int] | Sequence[int],
) -> None:
    """Write a PNG of a frame with the ROI drawn on it, atomically.

    Parameters
    ----------
    path : str or path-like
        Output file (``.png``); its folder must exist. Written to a temporary file in the
        same folder, then moved into place.
    frame : ndarray, shape (h, w) or (h, w, 3), uint8
        Gray or RGB frame.
    roi : tuple of 4 int
        ``(x, y, w, h)`` in pixels; must lie inside the frame.

    Raises
    ------
    InputError
        If the frame is not a uint8 gray/RGB image, the ROI does not fit it, or the
        folder of ``path`` does not exist.
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or frame.size == 0:
        raise InputError(
            f"save_roi_png needs a uint8 (h, w) or (h, w, 3) frame; got {frame.shape}."
        )
    if frame.ndim == 3 and frame.shape[2] != 3:
        raise InputError(f"save_roi_png needs 1 or 3 colour channels; got {frame.shape[2]}.")
    x, y, w, h = check_roi(roi, frame.shape, source=path)
    out = Path(path)
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} for {out.name} does not exist; create it first.")
    bgr = (
        cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frame.ndim == 2
        else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    )
    thick = max(1, round(max(frame.shape[:2]) / 300))
    cv2.rectangle(bgr, (x, y), (x + w - 1, y + h - 1), (0, 0, 255), thick, cv2.LINE_AA)
    label = f"x,y,w,h = {x},{y},{w},{h}"
    scale = max(0.4, max(frame.shape[:2]) / 1200)
    ty = y - 2 * thick if y > 20 * scale else min(frame.shape[0] - 2, y + h + int(18 * scale))
    cv2.putText(
        bgr,
        label,
        (x + thick, ty),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (0, 0, 255),
        thick,
        cv2.LINE_AA,
    )
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:  # pragma: no cover - cv2 encodes any uint8 BGR image
        raise RuntimeError("cv2.imencode failed to encode the ROI preview")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.tobytes())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
