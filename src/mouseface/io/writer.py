"""Write videos with PyAV (FFmpeg), streaming and atomically.

Frames are encoded one at a time as they arrive from an iterable, so a long video is never held
in memory. The file is written under a temporary name in the destination folder and moved into
place with :func:`os.replace` once it is complete, so a reader never sees a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mouseface.errors import InputError

__all__ = ["write_video"]

#: Pixel formats that subsample chroma by 2 in both directions need even frame sizes.
_EVEN_SIZE_FORMATS = frozenset({"yuv420p", "yuvj420p", "nv12"})


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    codec: str = "libx264",
    crf: int | None = 18,
    preset: str | None = None,
    pix_fmt: str = "yuv420p",
    pad: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Encode frames into a video file, streaming, and move it into place atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. The container format follows the suffix (``.mp4``, ``.mkv``,
        ``.avi``, ...). Its folder must exist. An existing file is replaced only once the new
        one is complete.
    frames : iterable of numpy.ndarray
        uint8 frames, all of one shape: ``(h, w)`` gray or ``(h, w, 3)`` RGB. Consumed lazily,
        one frame at a time.
    fps : float
        Frame rate in frames per second (> 0). Frame ``i`` gets the time stamp ``i / fps`` s.
    codec : str, optional
        FFmpeg encoder name (default ``"libx264"``).
    crf : int or None, optional
        Constant rate factor for x264/x265 (0 = lossless, 18 = visually lossless, the
        default). ``None`` leaves the encoder's default.
    preset : str or None, optional
        x264/x265 speed preset (``"ultrafast"`` ... ``"veryslow"``); ``None`` leaves the
        encoder's default (``"medium"``).
    pix_fmt : str, optional
        Pixel format of the encoded stream (default ``"yuv420p"``, what most players expect).
    pad : bool, optional
        ``yuv420p`` needs an even width and height. If ``False`` (default) an odd size raises
        :class:`~mouseface.errors.InputError`; if ``True`` the last row and/or column is
        repeated to make the size even (the file is then one pixel larger than the frames).
    progress : callable or None, optional
        Called with the number of frames written so far after each frame.

    Returns
    -------
    pathlib.Path
        The path of the written file.

    Raises
    ------
    mouseface.errors.InputError
        If there are no frames, a frame is not uint8 gray/RGB, the shape changes between
        frames, the size is odd for ``yuv420p`` without ``pad=True``, ``fps`` is not positive,
        the folder does not exist or the codec is unknown.
    """
    path = Path(path)
    if not fps > 0:
        raise InputError(f"write_video({path}): fps must be > 0, got {fps!r}")
    if not path.parent.is_dir():
        raise InputError(
            f"write_video({path}): folder {path.parent} does not exist; create it first"
        )
    if codec not in av.codecs_available:
        raise InputError(
            f"write_video({path}): unknown codec {codec!r}; use one FFmpeg provides, "
            "e.g. 'libx264' or 'mpeg4'"
        )
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise InputError(f"write_video({path}): no frames given; pass at least one frame")
    first = _check_frame(first, 0, None, path)
    shape = first.shape
    height, width = shape[:2]
    if pix_fmt in _EVEN_SIZE_FORMATS and (height % 2 or width % 2):
        if not pad:
            raise InputError(
                f"write_video({path}): frames are {width}x{height} (w x h) but {pix_fmt} needs "
                "an even width and height; crop them (frame[: h // 2 * 2, : w // 2 * 2]) or "
                "pass pad=True"
            )
        pad_rows, pad_cols = height % 2, width % 2
    else:
        pad_rows = pad_cols = 0

    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        with av.open(str(tmp), mode="w") as container:
            rate = Fraction(fps).limit_denominator(1_000_000)
            stream = container.add_stream(codec, rate=rate)
            stream.width = width + pad_cols
            stream.height = height + pad_rows
            stream.pix_fmt = pix_fmt
            options: dict[str, str] = {}
            if crf is not None:
                options["crf"] = str(crf)
            if preset is not None:
                options["preset"] = preset
            stream.options = options
            in_format = "gray" if first.ndim == 2 else "rgb24"
            n = 0
            frame: np.ndarray | None = first
            while frame is not None:
                if n:
                    frame = _check_frame(frame, n, shape, path)
                if pad_rows or pad_cols:
                    frame = np.pad(
                        frame,
                        ((0, pad_rows), (0, pad_cols)) + ((0, 0),) * (frame.ndim - 2),
                        mode="edge",
                    )
                video_frame = av.VideoFrame.from_ndarray(frame, format=in_format)
                for packet in stream.encode(video_frame):
                    container.mux(packet)
                n += 1
                if progress is not None:
                    progress(n)
                frame = next(iterator, None)
            for packet in stream.encode(None):
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _check_frame(
    frame: np.ndarray, index: int, shape: tuple[int, ...] | None, path: Path
) -> np.ndarray:
    """Return ``frame`` as a C-contiguous uint8 array or raise InputError naming the frame."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise InputError(
            f"write_video({path}): frame {index} has dtype {frame.dtype}; frames must be uint8 "
            "(convert with np.clip(x, 0, 255).astype(np.uint8))"
        )
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)):
        raise InputError(
            f"write_video({path}): frame {index} has shape {frame.shape}; expected (h, w) gray "
            "or (h, w, 3) RGB"
        )
    if shape is not None and frame.shape != shape:
        raise InputError(
            f"write_video({path}): frame {index} has shape {frame.shape} but frame 0 had "
            f"{shape}; all frames of a video must have the same shape"
        )
    return np.ascontiguousarray(frame)
