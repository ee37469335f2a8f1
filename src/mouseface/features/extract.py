"""Streaming feature extraction for one video: decode -> crop -> stabilise -> resize -> features.

Decoding runs in its own thread and hands fixed-size chunks to the compute side through a bounded
queue, so decoding and feature computation overlap and memory stays flat whatever the video's
length. Each video feature set (``hog``; ``flow``: cell flow against the median of the session's
first frames, :mod:`mouseface.features.flow`) is appended to its own array of a zarr store
(``features.zarr``) as it is computed; nothing per-frame is kept in memory except the small 1-D
series (times, motion, flags). The store's ``feature_sets`` and ``feature_weights`` attributes
say which arrays make up a frame's feature vector (see :mod:`mouseface.io.feature_store`).
"""

from __future__ import annotations

import queue
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import zarr

from mouseface.errors import DecodeWarning, InputError
from mouseface.features.flow import cell_flow, flow_reference, flow_shape
from mouseface.features.hog import hog, hog_shape
from mouseface.features.motion import brightness_flags, motion_energy
from mouseface.io.config import FlowParams
from mouseface.io.video import VideoReader

__all__ = [
    "VIDEO_FEATURE_SETS",
    "ExtractResult",
    "face_size",
    "common_face_size",
    "resize_faces",
    "extract_features",
]

#: Feature sets computed from the video itself (``keypoints`` come from a pose file).
VIDEO_FEATURE_SETS = ("hog", "flow")

_DONE = object()
_CHUNK_BYTES = 32 << 20


def face_size(crop_hw: tuple[int, int], face_width: int | None) -> tuple[int, int]:
    """Size (h, w) that a crop of size ``crop_hw`` is resized to before HOG (aspect kept)."""
    h, w = crop_hw
    if face_width is None or face_width == w:
        return h, w
    return max(1, int(round(h * face_width / w))), int(face_width)


def common_face_size(crops_hw: list[tuple[int, int]], face_width: int | None) -> tuple[int, int]:
    """One face size (h, w) for every session of a project, so that their HOGs compare.

    Width ``face_width``; height from the median aspect ratio of the crops (a crop whose aspect
    differs is stretched slightly). With ``face_width=None`` all crops must have one size.
    """
    if face_width is None:
        if len(set(crops_hw)) > 1:
            raise InputError(
                f"sessions have face crops of different sizes ({sorted(set(crops_hw))}) and "
                "hog.face_width is null; set hog.face_width (e.g. 320) so that they are resized "
                "to one standard face size"
            )
        return tuple(crops_hw[0])
    aspect = float(np.median([h / w for h, w in crops_hw]))
    return face_size((max(1, int(round(aspect * 10000))), 10000), face_width)


def resize_faces(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize uint8 frames ``(n, h, w)`` to ``size`` = (h2, w2); area if shrinking, else linear."""
    n, h, w = frames.shape
    if (h, w) == tuple(size):
        return frames
    interp = cv2.INTER_AREA if size[1] < w else cv2.INTER_LINEAR
    out = np.empty((n, *size), dtype=np.uint8)
    for i in range(n):
        cv2.resize(frames[i], (size[1], size[0]), dst=out[i], interpolation=interp)
    return out


@dataclass
class ExtractResult:
    """Per-frame series and metadata of one extraction (HOG itself is in the zarr store).

    Attributes
    ----------
    times : ndarray of float64, shape (n,)
        Frame times in seconds from the first frame.
    motion : ndarray of float32, shape (n,)
        Motion energy (mean abs frame difference, gray levels).
    dark, saturated : ndarray of bool, shape (n,)
    shifts : ndarray of float32, shape (n, 2)
        Per-frame stabilisation shifts (dy, dx) in pixels (zeros when stabilisation is off).
    mean_face : ndarray of float32, shape (h', w')
        Mean resized face crop.
    n_features : dict
        Columns of each computed feature set, e.g. ``{"hog": 2400, "flow": 600}``.
    decode_error : dict or None
    timings : dict
        Seconds spent decoding (waiting for frames) and computing.
    """

    times: np.ndarray
    motion: np.ndarray
    dark: np.ndarray
    saturated: np.ndarray
    shifts: np.ndarray
    mean_face: np.ndarray
    n_features: dict[str, int]
    decode_error: dict | None = None
    timings: dict = field(default_factory=dict)


def _producer(reader: VideoReader, q: queue.Queue, stop: threading.Event) -> None:
    try:
        for chunk in reader.chunks(warn=False):
            while not stop.is_set():
                try:
                    q.put(chunk, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        q.put(_DONE)
    except BaseException as exc:  # forwarded to the consumer thread
        q.put(exc)


def _create_store(path: Path, n_features: dict[str, int]) -> zarr.Group:
    g = zarr.open_group(str(path), mode="w", zarr_format=2)

    def arr(name: str, shape: tuple, chunks: tuple, dtype: str, dims: list[str]) -> None:
        g.create_array(
            name, shape=shape, chunks=chunks, dtype=dtype, attributes={"_ARRAY_DIMENSIONS": dims}
        )

    for name, d in n_features.items():
        chunk = max(1, (1 << 20) // (4 * d))
        # HOG keeps the dimension name of the original contract: hog (frame, feature)
        arr(
            name,
            (0, d),
            (chunk, d),
            "f4",
            ["frame", "feature" if name == "hog" else f"{name}_feature"],
        )
    for name, dtype in (("time", "f8"), ("motion", "f4"), ("dark", "bool"), ("saturated", "bool")):
        arr(name, (0,), (65536,), dtype, ["frame"])
    arr("shift", (0, 2), (65536, 2), "f4", ["frame", "axis"])
    return g


def _feature_sizes(
    sets: tuple[str, ...],
    size: tuple[int, int],
    hog_params: dict,
    flow_params: dict,
    video: str | Path,
    crop_hw: tuple[int, int],
) -> dict[str, int]:
    """Columns of each feature set on a face of ``size``; InputError when the face is too small."""
    out: dict[str, int] = {}
    where = f"{video}: face crop {crop_hw[1]}x{crop_hw[0]} px (resized to {size[1]}x{size[0]})"
    for name in sets:
        if name == "hog":
            keys = ("orientations", "pixels_per_cell", "cells_per_block")
            try:
                shape = hog_shape(size, **{k: v for k, v in hog_params.items() if k in keys})
            except InputError as exc:
                raise InputError(
                    f"{where} is too small for the HOG cells: {exc}; use smaller "
                    "hog.pixels_per_cell or a larger hog.face_width"
                ) from None
            out[name] = int(np.prod(shape))
        else:
            cell = int(flow_params["cell"])
            cy, cx, d = flow_shape(size, cell=cell)
            if cy < 2 or cx < 2:
                raise InputError(
                    f"{where} holds {max(cy, 0)}x{max(cx, 0)} whole {cell}-px flow cells; "
                    "use a smaller flow.cell or a larger hog.face_width"
                )
            out[name] = int(d)
    return out


def extract_features(
    video: str | Path,
    store: str | Path,
    *,
    roi: tuple[int, int, int, int] | None = None,
    face_shape: tuple[int, int] | None = None,
    hog_params: dict | None = None,
    feature_sets: Sequence[str] = ("hog",),
    flow_params: dict | None = None,
    stabiliser: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
    chunk_size: int = 256,
    n_jobs: int = 1,
    fps: float = 30.0,
    attrs: dict | None = None,
    crop_shape: tuple[int, int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExtractResult:
    """Stream a video through crop, optional stabilisation, resize and HOG into a zarr store.

    Parameters
    ----------
    video : str or Path
        Video file or image folder.
    store : str or Path
        Folder of the zarr store to create (overwritten). Write it to a temporary folder and
        rename it for atomicity (see :func:`mouseface.io.outputs.atomic_dir`).
    roi : (x, y, w, h) or None
        Face crop in pixels; None = whole frame.
    face_shape : (h, w) or None
        Size (px) crops are resized to before HOG (see :func:`common_face_size`); None = native.
    hog_params : dict
        Keyword arguments of :func:`mouseface.hog` (orientations, pixels_per_cell, ...).
    feature_sets : sequence of str
        Video feature sets to compute, in the order they make up a frame's feature vector
        (:data:`VIDEO_FEATURE_SETS`).
    flow_params : dict, optional
        For ``flow``: ``cell`` (px), ``sigma`` (px), ``reference_frames`` (the reference face is
        the median of this many first frames, taken from the first chunk only, so that flow
        streams like HOG), ``head`` (keep the head's movement; default ``False``: each frame's
        affine fit of the flow is subtracted), ``weight`` (stored in the ``feature_weights``
        attribute); missing keys take :class:`~mouseface.io.config.FlowParams`' defaults.
    stabiliser : callable, optional
        ``f(frames) -> (aligned_frames, shifts)`` applied to each chunk of crops.
    chunk_size : int
        Frames per chunk at most; large frames get smaller chunks so that a chunk of decoded
        crops stays under 32 MB (memory is bounded by the queue: at most 4 chunks in flight).
    n_jobs : int
        Threads for HOG and cell flow.
    fps : float
        Frame rate of an image folder.
    attrs : dict, optional
        JSON-able attributes stored on the zarr group (provenance, parameters).
    crop_shape : (h, w), optional
        Shape of the crops ``stabiliser`` returns when it changes it (registration onto a
        reference face of another size); default: the ROI's shape.
    progress : callable, optional
        Called with the number of frames done after each chunk.

    Returns
    -------
    ExtractResult
    """
    hog_params = dict(hog_params or {})
    flow_params = {**FlowParams().model_dump(), **(flow_params or {})}
    sets = tuple(feature_sets)
    unknown = [x for x in sets if x not in VIDEO_FEATURE_SETS]
    if unknown:
        raise InputError(
            f"{video}: cannot compute feature sets {unknown} from a video; "
            f"known: {list(VIDEO_FEATURE_SETS)}"
        )
    reader = VideoReader(video, roi=roi, chunk_size=chunk_size, fps=fps)
    crop_px = (
        (reader.roi[2] * reader.roi[3]) if reader.roi else reader.info.width * reader.info.height
    )
    reader.chunk_size = max(8, min(chunk_size, _CHUNK_BYTES // max(1, crop_px)))
    crop_hw = (
        (reader.roi[3], reader.roi[2]) if reader.roi else (reader.info.height, reader.info.width)
    )
    size = tuple(face_shape) if face_shape is not None else tuple(crop_hw)
    n_features = _feature_sizes(sets, size, hog_params, flow_params, video, crop_hw)
    g = _create_store(Path(store), n_features)
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    thread = threading.Thread(target=_producer, args=(reader, q, stop), daemon=True)
    series: dict[str, list[np.ndarray]] = {
        k: [] for k in ("time", "motion", "dark", "sat", "shift")
    }
    face_sum = np.zeros(size, dtype=np.float64)
    flow_ref = None
    previous = None
    t_wait = t_compute = 0.0
    thread.start()
    try:
        while True:
            t0 = time.perf_counter()
            item = q.get()
            t1 = time.perf_counter()
            t_wait += t1 - t0
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            frames = item.frames
            if stabiliser is not None:
                frames, shifts = stabiliser(frames)
            else:
                shifts = np.zeros((len(frames), 2), dtype=np.float32)
            motion = motion_energy(frames, previous=previous)
            previous = frames[-1]
            dark, sat = brightness_flags(frames)
            faces = resize_faces(frames, size)
            face_sum += faces.sum(axis=0, dtype=np.float64)
            if "hog" in n_features:
                g["hog"].append(hog(faces, n_jobs=n_jobs, **hog_params))
            if "flow" in n_features:
                if flow_ref is None:
                    k = min(len(faces), int(flow_params["reference_frames"]))
                    flow_ref = flow_reference(
                        np.median(faces[:k], axis=0),
                        cell=int(flow_params["cell"]),
                        sigma=float(flow_params["sigma"]),
                    )
                g["flow"].append(
                    cell_flow(faces, flow_ref, head=bool(flow_params["head"]), n_jobs=n_jobs)
                )
            for key, val in (
                ("time", item.times),
                ("motion", motion),
                ("dark", dark),
                ("sat", sat),
                ("shift", np.asarray(shifts, dtype=np.float32)),
            ):
                series[key].append(val)
            t_compute += time.perf_counter() - t1
            if progress is not None:
                progress(len(frames))
    finally:
        stop.set()
        thread.join(timeout=5)
    out = ExtractResult(
        times=np.concatenate(series["time"]),
        motion=np.concatenate(series["motion"]),
        dark=np.concatenate(series["dark"]),
        saturated=np.concatenate(series["sat"]),
        shifts=np.concatenate(series["shift"]).reshape(-1, 2),
        mean_face=(face_sum / max(1, reader.n_decoded)).astype(np.float32),
        n_features=n_features,
        decode_error=reader.decode_error,
        timings={"decode_wait_s": round(t_wait, 3), "compute_s": round(t_compute, 3)},
    )
    for name, key in (
        ("time", "time"),
        ("motion", "motion"),
        ("dark", "dark"),
        ("saturated", "sat"),
    ):
        g[name].append(np.concatenate(series[key]))
    g["shift"].append(out.shifts)
    g.create_array("mean_face", data=out.mean_face, attributes={"_ARRAY_DIMENSIONS": ["y", "x"]})
    for name in n_features:
        g[name].attrs["coordinates"] = "time"
    if flow_ref is not None:
        g.create_array(
            "flow_reference", data=flow_ref.image, attributes={"_ARRAY_DIMENSIONS": ["y", "x"]}
        )
    g.attrs.update(
        {
            "roi": list(reader.roi) if reader.roi else None,
            "face_size": list(size),
            "hog": hog_params,
            "flow": flow_params if "flow" in n_features else None,
            "feature_sets": list(sets),
            "feature_weights": {
                name: float(flow_params["weight"]) if name == "flow" else 1.0 for name in sets
            },
            "decode_error": out.decode_error,
            **(attrs or {}),
        }
    )
    zarr.consolidate_metadata(str(store))
    if out.decode_error is not None:
        warnings.warn(
            f"{video}: decoding stopped at frame {out.decode_error['frame']} "
            f"({out.decode_error['message']}); the frames before it are used and the break is "
            "recorded in provenance",
            DecodeWarning,
            stacklevel=2,
        )
    return out
