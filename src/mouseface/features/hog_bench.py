"""Speed and agreement of :func:`mouseface.features.hog.hog` against ``skimage.feature.hog``.

Used by ``benchmarks/bench_hog.py`` and meant for ``mouseface bench``. Timings are measured here
and reported, never asserted in tests.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from mouseface.errors import InputError
from mouseface.features.hog import hog
from mouseface.io.config import PAPER_HOG

__all__ = ["PAPER_HOG_PARAMS", "bench_hog", "pupil_benchmark_frames"]

#: HOG parameters of Dolensek et al. 2020 (:data:`mouseface.io.config.PAPER_HOG`, the keyword
#: arguments of :func:`~mouseface.features.hog.hog`: without the face width).
PAPER_HOG_PARAMS: dict[str, Any] = {k: v for k, v in PAPER_HOG.items() if k != "face_width"}


def pupil_benchmark_frames(video: str | Path, *, n_frames: int = 100) -> dict[str, np.ndarray]:
    """Real frames at the two benchmark sizes, read from a video with PyAV.

    Parameters
    ----------
    video : str or Path
        A video at least 480 x 640 pixels (the shared ``pupil/sample_video.mp4``, 800 x 480).
    n_frames : int
        Number of frames to read from the start of the video.

    Returns
    -------
    dict of str to ndarray
        ``{"480x640": (n, 480, 640) uint8, "240x320": (n, 240, 320) uint8}``: a centred
        480 x 640 crop of each gray frame, and that crop resized with ``cv2.INTER_AREA``.
    """
    import av
    import cv2

    path = Path(video)
    if not path.is_file():
        raise InputError(f"benchmark video {path} not found; pass an existing video file")
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="gray"))
            if len(frames) >= n_frames:
                break
    if not frames:
        raise InputError(f"benchmark video {path} has no decodable frames")
    stack = np.stack(frames)
    h, w = stack.shape[1:]
    if h < 480 or w < 640:
        raise InputError(f"benchmark video {path} is {w}x{h}; need at least 640x480 pixels")
    y0 = (h - 480) // 2
    x0 = (w - 640) // 2
    big = np.ascontiguousarray(stack[:, y0 : y0 + 480, x0 : x0 + 640])
    small = np.stack([cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in big])
    return {"480x640": big, "240x320": small}


def _interleaved_best(fns: list[Any], repeats: int) -> list[float]:
    """Best wall time of each function over ``repeats`` rounds, the functions taking turns.

    Taking turns (rather than all runs of one, then all of the other) keeps a change in machine
    load during the benchmark from favouring one side.
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def bench_hog(frames_by_size: dict[str, np.ndarray], *, repeats: int = 3) -> list[dict[str, Any]]:
    """Time scikit-image and mouseface HOG on the same frames, in the same run.

    scikit-image is run frame by frame (as the paper's code does); mouseface once on the whole
    stack with ``n_jobs=1`` and once with ``n_jobs=-1``. Each timing is the best of
    ``repeats`` rounds in which the three take turns, after an untimed warm-up call (numba
    compilation or cache load). The paper's parameters (:data:`PAPER_HOG_PARAMS`) are used.

    Parameters
    ----------
    frames_by_size : dict of str to ndarray
        Label (e.g. ``"480x640"``) to a (n_frames, height, width) uint8 stack.
    repeats : int
        Timed runs per method; the fastest is kept.

    Returns
    -------
    list of dict
        One row per size with keys ``size``, ``n_frames``, ``skimage_fps``, ``mouseface_fps``
        (one thread), ``mouseface_fps_parallel`` (all cores), ``ratio``
        (``mouseface_fps / skimage_fps``) and ``max_abs_diff`` (max over all frames and
        features).
    """
    from skimage.feature import hog as sk_hog

    if repeats < 1:
        raise InputError(f"repeats must be >= 1; got {repeats}")
    rows = []
    for label, frames in frames_by_size.items():
        frames = np.asarray(frames)
        if frames.ndim != 3 or len(frames) == 0:
            raise InputError(
                f"frames_by_size[{label!r}] must be a non-empty (n, h, w) stack; "
                f"got shape {frames.shape}"
            )
        n = len(frames)
        hog(frames[:1], **PAPER_HOG_PARAMS)
        hog(frames[:2], n_jobs=-1, **PAPER_HOG_PARAMS)
        box: dict[str, np.ndarray] = {}

        def run_skimage(frames: np.ndarray = frames, box: dict = box) -> None:
            box["ref"] = np.stack(
                [sk_hog(f, feature_vector=True, **PAPER_HOG_PARAMS) for f in frames]
            )

        def run_ours(frames: np.ndarray = frames, box: dict = box) -> None:
            box["ours"] = hog(frames, n_jobs=1, **PAPER_HOG_PARAMS)

        def run_parallel(frames: np.ndarray = frames, box: dict = box) -> None:
            box["par"] = hog(frames, n_jobs=-1, **PAPER_HOG_PARAMS)

        t_sk, t_ours, t_par = _interleaved_best([run_skimage, run_ours, run_parallel], repeats)
        diff = float(np.max(np.abs(box["ours"].astype(np.float64) - box["ref"])))
        diff = max(diff, float(np.max(np.abs(box["par"].astype(np.float64) - box["ref"]))))
        rows.append(
            {
                "size": label,
                "n_frames": n,
                "skimage_fps": n / t_sk,
                "mouseface_fps": n / t_ours,
                "mouseface_fps_parallel": n / t_par,
                "ratio": t_sk / t_ours,
                "max_abs_diff": diff,
            }
        )
    return rows
