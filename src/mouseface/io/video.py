"""Streaming video input: PyAV decoding in fixed-size chunks, gray uint8, container timestamps.

A video is never held in memory: :meth:`VideoReader.chunks` yields :class:`FrameChunk` objects of
at most ``chunk_size`` frames. Frame times come from the container's presentation timestamps
(variable frame rate works); they are reported relative to the first decoded frame, so that the
first frame is at 0 s (the "video clock" of an events table). A folder of images is read as a video
whose frame times are ``index / fps``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from mouseface.errors import DecodeWarning, InputError

__all__ = ["FrameChunk", "VideoInfo", "VideoReader", "probe_video", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
_LUMA_FORMATS = {
    "yuv420p",
    "yuvj420p",
    "yuv422p",
    "yuvj422p",
    "yuv444p",
    "yuvj444p",
    "gray",
    "nv12",
}


@dataclass(frozen=True)
class VideoInfo:
    """What a video container says about itself.

    Attributes
    ----------
    path : Path
    width, height : int
        Frame size in pixels.
    n_frames : int or None
        Frame count from the container (None when it does not say; the decoded count can differ).
    fps : float
        Nominal (average) frame rate in frames/s, for display only: times come from timestamps.
    duration : float or None
        Duration in seconds, when known.
    codec : str
    frames_announced : int or None
        Exact frame count written in the container header, when there is one (used to detect
        truncated files).
    """

    path: Path
    width: int
    height: int
    n_frames: int | None
    fps: float
    duration: float | None
    codec: str
    frames_announced: int | None = None


@dataclass(frozen=True)
class FrameChunk:
    """A run of consecutive decoded frames.

    Attributes
    ----------
    start : int
        Index of the first frame of the chunk in the video.
    frames : ndarray of uint8, shape (n, h, w)
        Gray frames (ROI already applied).
    times : ndarray of float64, shape (n,)
        Frame times in seconds from the first frame.
    """

    start: int
    frames: np.ndarray
    times: np.ndarray


def _image_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(
            f"{folder}: the folder holds no images ({', '.join(IMAGE_SUFFIXES)}); "
            "give a video file or a folder of frames"
        )
    return files


def probe_video(path: str | Path, *, fps: float = 30.0) -> VideoInfo:
    """Open a video (or image folder) and read its size, frame count and frame rate.

    Parameters
    ----------
    path : str or Path
        Video file (anything FFmpeg reads) or a folder of images.
    fps : float, optional
        Frame rate of an image folder (frames/s); ignored for video files.

    Raises
    ------
    InputError
        If the file is missing, unreadable or has no video stream.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{path}: no such file; check the path (relative paths in a config are "
            "resolved against the config's folder)"
        )
    if path.is_dir():
        files = _image_files(path)
        first = cv2.imread(str(files[0]), cv2.IMREAD_GRAYSCALE)
        if first is None:
            raise InputError(f"{files[0]}: not a readable image")
        h, w = first.shape
        return VideoInfo(path, w, h, len(files), float(fps), len(files) / fps, "images")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: has no video stream; give a video file")
            stream = container.streams.video[0]
            rate = float(stream.average_rate) if stream.average_rate else 0.0
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1e6
            announced = int(stream.frames) if stream.frames else None
            n = announced
            if n is None and duration and rate:
                n = int(round(duration * rate))
            return VideoInfo(
                path,
                stream.codec_context.width,
                stream.codec_context.height,
                n,
                rate,
                duration,
                stream.codec_context.name,
                announced,
            )
    except av.FFmpegError as exc:
        raise InputError(
            f"{path}: cannot be read as a video ({exc}); check that the file is a "
            "complete video (mp4, avi, mkv, mov) or a folder of images"
        ) from exc


def _gray(frame: av.VideoFrame) -> np.ndarray:
    """Return the luma plane of a decoded frame as a (h, w) uint8 array (no range expansion)."""
    if frame.format.name in _LUMA_FORMATS:
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return buf[:, : frame.width]
    return frame.to_ndarray(format="gray")


@dataclass
class VideoReader:
    """Read a video (or image folder) in chunks of gray uint8 frames with timestamps.

    Parameters
    ----------
    path : str or Path
        Video file or folder of images.
    roi : tuple of int (x, y, w, h) or None
        Crop applied while reading, in pixels; None = whole frame. Must lie inside the frame.
    chunk_size : int
        Frames per chunk (bounds memory: ``chunk_size * h * w`` bytes per chunk).
    fps : float
        Frame rate assumed for an image folder (frames/s).
    threads : bool
        Let FFmpeg decode with several threads.

    Attributes
    ----------
    info : VideoInfo
    decode_error : dict or None
        After iteration, ``{"frame": i, "message": ...}`` if decoding broke at frame ``i`` (the
        frames before it were delivered), else None.
    n_decoded : int
        Frames delivered so far.
    """

    path: str | Path
    roi: tuple[int, int, int, int] | None = None
    chunk_size: int = 256
    fps: float = 30.0
    threads: bool = True
    info: VideoInfo = field(init=False)
    decode_error: dict | None = field(init=False, default=None)
    n_decoded: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.chunk_size < 1:
            raise InputError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self.info = probe_video(self.path, fps=self.fps)
        if self.roi is not None:
            x, y, w, h = (int(v) for v in self.roi)
            if (
                w < 1
                or h < 1
                or x < 0
                or y < 0
                or x + w > self.info.width
                or y + h > self.info.height
            ):
                raise InputError(
                    f"{self.path}: ROI x,y,w,h = {x},{y},{w},{h} lies outside the "
                    f"{self.info.width}x{self.info.height} frame; give a box inside the frame "
                    "(or --roi auto, or omit it for the whole frame)"
                )
            self.roi = (x, y, w, h)

    def _crop(self, img: np.ndarray) -> np.ndarray:
        if self.roi is None:
            return img
        x, y, w, h = self.roi
        return img[y : y + h, x : x + w]

    def _frames(self) -> Iterator[tuple[np.ndarray, float]]:
        if self.path.is_dir():
            for i, f in enumerate(_image_files(self.path)):
                img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
                if img is None or img.shape != (self.info.height, self.info.width):
                    self._broke(
                        i, f"{f.name} is unreadable or not {self.info.width}x{self.info.height}"
                    )
                    return
                yield self._crop(img), i / self.fps
            return
        i = 0
        t0 = None
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                if self.threads:
                    stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    t = frame.time
                    if t is None:  # no timestamp at all: fall back to the nominal rate
                        t = i / (self.info.fps or self.fps)
                    if t0 is None:
                        t0 = t
                    yield self._crop(_gray(frame)), t - t0
                    i += 1
        except av.FFmpegError as exc:
            self._broke(i, str(exc))
            return
        expected = self.info.frames_announced
        if expected and i < expected - max(2, expected // 100):
            self._broke(
                i,
                f"the container announces {expected} frames but only {i} decode; "
                "the file is probably truncated",
            )

    def _broke(self, i: int, message: str) -> None:
        self.decode_error = {"frame": i, "message": message}

    def _warn(self) -> None:
        i = self.decode_error["frame"]
        message = self.decode_error["message"]
        warnings.warn(
            f"{self.path}: decoding stopped at frame {i} ({message}); the {i} frames before it "
            "are used and the break is recorded in provenance",
            DecodeWarning,
            stacklevel=4,
        )

    def chunks(self, *, warn: bool = True) -> Iterator[FrameChunk]:
        """Yield the video as consecutive :class:`FrameChunk` objects.

        Parameters
        ----------
        warn : bool
            Emit a :class:`~mouseface.errors.DecodeWarning` if decoding breaks (set False when
            iterating in a worker thread and warn from the caller instead).

        Yields
        ------
        FrameChunk
            ``frames`` uint8 (n, h, w) with n <= chunk_size, ``times`` float64 (n,) in seconds.
        """
        self.decode_error = None
        self.n_decoded = 0
        buf: list[np.ndarray] = []
        times: list[float] = []
        for img, t in self._frames():
            buf.append(img)
            times.append(t)
            if len(buf) == self.chunk_size:
                yield self._emit(buf, times)
                buf, times = [], []
        if buf:
            yield self._emit(buf, times)
        if self.n_decoded == 0:
            why = f" ({self.decode_error['message']})" if self.decode_error else ""
            raise InputError(
                f"{self.path}: the video holds no decodable frames{why}; check that "
                "the file is a complete video"
            )
        if self.decode_error is not None and warn:
            self._warn()

    def _emit(self, buf: list[np.ndarray], times: list[float]) -> FrameChunk:
        chunk = FrameChunk(self.n_decoded, np.stack(buf), np.asarray(times, dtype=np.float64))
        self.n_decoded += len(buf)
        return chunk
