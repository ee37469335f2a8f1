"""Small face crops for the report's hover: a decimated set of ROI frames as base64 JPEG.

A strength trace in ``report.html`` shows, when hovered, the face of the frame under the cursor.
The page cannot hold every frame, so :func:`face_crops` keeps an evenly spaced subset (at most
``max_crops`` per session), reads them from the session's video through the ROI the run used
(:class:`mouseface.io.video.VideoReader`) and shrinks each to a thumbnail.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mouseface.io.video import VideoReader

__all__ = ["FaceCrops", "crop_frames", "face_crops", "thumbnail_size"]


@dataclass(frozen=True)
class FaceCrops:
    """Thumbnails of a subset of one session's frames.

    Attributes
    ----------
    frames : ndarray of int64, shape (n,)
        Video frame index of each crop, increasing.
    jpeg : list of str
        Base64 JPEG (gray) of each crop, no ``data:`` prefix.
    size : (int, int)
        Thumbnail width and height, pixels.
    """

    frames: np.ndarray
    jpeg: list[str]
    size: tuple[int, int]

    def to_json(self) -> dict[str, object]:
        """``{"frames": [...], "jpeg": [...], "size": [w, h]}`` for the page."""
        return {
            "frames": [int(f) for f in self.frames],
            "jpeg": list(self.jpeg),
            "size": list(self.size),
        }


def crop_frames(frames: Sequence[int] | np.ndarray, *, max_crops: int) -> np.ndarray:
    """Up to ``max_crops`` frame indices spread evenly over ``frames`` (sorted, unique).

    Parameters
    ----------
    frames : sequence of int
        Candidate frame indices (e.g. the session's ``frame`` column).
    max_crops : int
        Largest number kept (>= 0).

    Returns
    -------
    ndarray of int64, shape (min(max_crops, n_unique),)
    """
    f = np.unique(np.asarray(frames, dtype=np.int64))
    if max_crops <= 0 or f.size == 0:
        return np.empty(0, dtype=np.int64)
    if f.size <= max_crops:
        return f
    pick = np.unique(np.rint(np.linspace(0, f.size - 1, max_crops)).astype(np.int64))
    return f[pick]


def _thumbnail(img: np.ndarray, size: tuple[int, int], quality: int) -> str:
    w, h = size
    small = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 gray image
        raise RuntimeError("OpenCV could not encode a JPEG thumbnail")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def thumbnail_size(roi_wh: tuple[int, int], *, box: tuple[int, int] = (48, 40)) -> tuple[int, int]:
    """Width and height of a crop of ``roi_wh`` (w, h) pixels fitted into ``box`` (w, h)."""
    w, h = (max(int(v), 1) for v in roi_wh)
    scale = min(box[0] / w, box[1] / h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def face_crops(
    video: str | Path,
    frames: Sequence[int] | np.ndarray,
    *,
    roi: tuple[int, int, int, int] | None,
    max_crops: int = 300,
    box: tuple[int, int] = (48, 40),
    quality: int = 75,
    fps: float = 30.0,
) -> FaceCrops:
    """Read an evenly spaced subset of ``frames`` from ``video`` and shrink them to thumbnails.

    The video is streamed once (never held in memory); decoding stops after the last frame
    wanted. Frames past a decoding break are left out.

    Parameters
    ----------
    video : str or Path
        The session's video (or image folder).
    frames : sequence of int
        Frame indices the report shows (the ``frame`` column of ``frames.parquet``).
    roi : (x, y, w, h) or None
        Face box used by the run, pixels; None = whole frame.
    max_crops : int
        Crops kept at most (evenly spaced over ``frames``).
    box : (int, int)
        Thumbnail bounding box (width, height) in pixels; the ROI's aspect ratio is kept.
    quality : int
        JPEG quality, 1-100.
    fps : float
        Frame rate assumed for an image folder.

    Returns
    -------
    FaceCrops

    Raises
    ------
    InputError
        The video cannot be opened or the ROI lies outside it.
    """
    want = crop_frames(frames, max_crops=max_crops)
    reader = VideoReader(video, roi=roi, chunk_size=64, fps=fps)
    if reader.roi is not None:
        size = thumbnail_size((reader.roi[2], reader.roi[3]), box=box)
    else:
        size = thumbnail_size((reader.info.width, reader.info.height), box=box)
    got: list[int] = []
    jpeg: list[str] = []
    if want.size == 0:
        return FaceCrops(np.empty(0, dtype=np.int64), [], size)
    last = int(want[-1])
    for chunk in reader.chunks(warn=False):
        idx = chunk.start + np.arange(len(chunk.frames))
        for i in np.flatnonzero(np.isin(idx, want)):
            got.append(int(idx[i]))
            jpeg.append(_thumbnail(chunk.frames[i], size, quality))
        if chunk.start + len(chunk.frames) > last:
            break
    return FaceCrops(np.asarray(got, dtype=np.int64), jpeg, size)
