"""Real mouse face footage for the real-face generator: the shipped identities and user videos.

The package ships neutral footage of three real mice (``src/mouseface/synth/faces/``: face crops
from the MIT-licensed DER tail-shock mosaics, only frames without a real expression: the 0-uA
tiles and the frames before each shock; ``docs/scripts/make_real_faces.py`` made them). Any other
side-view face video can be used as well (:func:`load_face_video`). Footage is kept in the
canonical orientation of the generator, snout to the LEFT; a video of a mouse facing right is
mirrored on loading.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from mouseface.errors import InputError
from mouseface.io.video import IMAGE_SUFFIXES, VideoReader

__all__ = [
    "FaceFootage",
    "load_face_video",
    "load_faces",
    "load_identity",
    "shipped_identities",
]

_FACES = Path(__file__).resolve().parent / "faces"
_VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm")


@dataclass(frozen=True)
class FaceFootage:
    """Neutral footage of one real mouse, snout to the left.

    Attributes
    ----------
    identity : str
        Name of the real individual (e.g. ``"ECO_3_000_M"`` or a user video's stem).
    frames : numpy.ndarray
        uint8 ``(n, h, w)`` gray face crops.
    clips : tuple of tuple of int
        ``(start, stop)`` frame ranges of continuous recording inside ``frames`` (playback
        never jumps inside a clip; joins between clips are cross-faded).
    fps : float
        Frame rate of the footage, frames/s.
    source : str
        Where the footage comes from (file, licence).
    """

    identity: str
    frames: np.ndarray
    clips: tuple[tuple[int, int], ...]
    fps: float
    source: str

    def median(self) -> np.ndarray:
        """Median face, float32 ``(h, w)`` (gray levels), the base of the landmarks."""
        step = max(1, len(self.frames) // 400)
        return np.median(self.frames[::step], axis=0).astype(np.float32)


def shipped_identities() -> tuple[str, ...]:
    """Names of the real mice whose footage ships with the package (sorted)."""
    return tuple(sorted(p.stem for p in _FACES.glob("*.json")))


def _decode(path: Path, *, max_frames: int | None = None) -> np.ndarray:
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="gray"))
            if max_frames is not None and len(out) >= max_frames:
                break
    return np.stack(out)


def load_identity(name: str) -> FaceFootage:
    """Load one shipped identity.

    Parameters
    ----------
    name : str
        One of :func:`shipped_identities`.

    Returns
    -------
    FaceFootage
    """
    meta_path = _FACES / f"{name}.json"
    if not meta_path.is_file():
        raise InputError(
            f"unknown real-face identity {name!r}; the shipped ones are "
            f"{list(shipped_identities())}"
        )
    meta = json.loads(meta_path.read_text())
    frames = _decode(_FACES / f"{name}.mp4")
    clips, start = [], 0
    for clip in meta["clips"]:
        n = int(clip["frames"][1] - clip["frames"][0])
        clips.append((start, start + n))
        start += n
    if start != len(frames):
        raise InputError(
            f"{_FACES / (name + '.mp4')}: {len(frames)} frames decoded but {meta_path.name} lists "
            f"{start}; reinstall mouseface or rerun docs/scripts/make_real_faces.py"
        )
    return FaceFootage(name, frames, tuple(clips), float(meta["fps"]), meta["source"])


def load_face_video(
    path: str | os.PathLike[str],
    *,
    roi: tuple[int, int, int, int] | None = None,
    facing: str = "left",
    max_frames: int = 1200,
    identity: str | None = None,
) -> FaceFootage:
    """Load a user's side-view face video (or image folder) as neutral footage.

    Only footage without an expression should be given (e.g. the baseline before any stimulus):
    the generator adds the expressions.

    Parameters
    ----------
    path : str or os.PathLike
        Video file or folder of images.
    roi : tuple of int or None, optional
        ``(x, y, w, h)`` of the face in pixels (eye, ear, snout and mouth inside); ``None`` =
        the whole frame.
    facing : {"left", "right"}, optional
        Where the snout points in the video (default ``"left"``); ``"right"`` mirrors it.
    max_frames : int, optional
        Frames read from the start at most (default 1200).
    identity : str or None, optional
        Name of the mouse (default: the file's stem).

    Returns
    -------
    FaceFootage
        One clip (the frames read).

    Raises
    ------
    mouseface.errors.InputError
        If the file cannot be read, ``facing`` is not left/right or the ROI is outside the frame.
    """
    path = Path(path)
    if facing not in ("left", "right"):
        raise InputError(f"{path}: facing must be 'left' or 'right', got {facing!r}")
    if not path.exists():
        raise InputError(f"face video {path} does not exist; give a video file or image folder")
    reader = VideoReader(path, roi=None if roi is None else tuple(int(v) for v in roi))
    frames: list[np.ndarray] = []
    for chunk in reader.chunks():
        frames.extend(chunk.frames)
        if len(frames) >= max_frames:
            break
    if not frames:
        raise InputError(f"{path}: no frames could be read; give a readable face video")
    arr = np.ascontiguousarray(np.stack(frames[:max_frames]))
    if facing == "right":
        arr = np.ascontiguousarray(arr[:, :, ::-1])
    if min(arr.shape[1:]) < 48:
        raise InputError(
            f"{path}: the face crop is {arr.shape[2]}x{arr.shape[1]} px; give a ROI of at least "
            "48x48 px around eye, ear and snout"
        )
    fps = reader.info.fps or 20.0
    name = identity or path.stem
    return FaceFootage(name, arr, ((0, len(arr)),), float(fps), f"user video {path}")


def load_faces(
    faces: str | os.PathLike[str],
    *,
    roi: tuple[int, int, int, int] | None = None,
    facing: str = "left",
) -> list[FaceFootage]:
    """The footage behind ``generate_dataset(faces=...)``.

    Parameters
    ----------
    faces : str or os.PathLike
        ``"real"``: the shipped identities; a video file: one identity; a folder of videos: one
        identity per video; a folder of images: one identity.
    roi, facing
        As in :func:`load_face_video` (applied to every user video).

    Returns
    -------
    list of FaceFootage
    """
    if isinstance(faces, str) and faces == "real":
        return [load_identity(n) for n in shipped_identities()]
    path = Path(faces)
    if path.is_dir():
        videos = sorted(p for p in path.iterdir() if p.suffix.lower() in _VIDEO_SUFFIXES)
        if videos:
            return [load_face_video(v, roi=roi, facing=facing) for v in videos]
        if any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
            return [load_face_video(path, roi=roi, facing=facing)]
        raise InputError(f"{path}: no videos or images inside; give face videos of neutral mice")
    if path.is_file():
        return [load_face_video(path, roi=roi, facing=facing)]
    raise InputError(
        f"faces={str(faces)!r}: not 'real', 'cartoon' or an existing video/folder; give one of them"
    )
