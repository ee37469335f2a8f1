"""Writing one synthetic session's files, shared by the cartoon and the real-face generators.

The video, the events table, the ground-truth table and the pose file of a session, and its
trial rows and ``mouseface.yaml`` entry, are the same whichever face drew the frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.io.events import EVENT_COLUMNS, write_events
from mouseface.io.outputs import write_parquet_atomic
from mouseface.io.writer import write_video
from mouseface.synth._schedule import SessionPlan
from mouseface.synth._timeline import Timeline
from mouseface.synth.pose import POSE_SALT, write_synthetic_pose

_CRF = 26
_PRESET = "ultrafast"


def equal_rois(boxes: list[tuple[int, int, int, int]], size: tuple[int, int]) -> list[list[int]]:
    """One ROI per animal, all of the largest face box's size, each centred on its animal's face
    and kept inside the ``(h, w)`` frame; equal sizes give equal HOG lengths."""
    h, w = size
    bw = min(max(b[2] for b in boxes), w // 2 * 2)
    bh = min(max(b[3] for b in boxes), h // 2 * 2)
    rois = []
    for x, y, ww, hh in boxes:
        x0 = int(np.clip(round(x + ww / 2 - bw / 2), 0, w - bw))
        y0 = int(np.clip(round(y + hh / 2 - bh / 2), 0, h - bh))
        rois.append([x0, y0, int(bw), int(bh)])
    return rois


def write_session_files(
    out: Path,
    plan: SessionPlan,
    tl: Timeline,
    frames: Iterable[np.ndarray],
    keypoints: Callable[[], np.ndarray],
    *,
    roi: tuple[int, int, int, int],
    index: tuple[int, int],
    fps: float,
    k: float,
    seed: int,
    subject: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Write ``videos/``, ``events/``, ``truth/`` and ``pose/`` files of one session.

    Parameters
    ----------
    out : Path
        Dataset folder.
    plan : SessionPlan
    tl : Timeline
        The session's per-frame truth.
    frames : iterable of ndarray
        uint8 ``(h, w)`` frames, rendered as they are written.
    keypoints : callable
        Returns the ``(n_frames, n_keypoints, 2)`` pose positions (px); called after the video
        is written (the cartoon fills them while drawing).
    roi : (x, y, w, h)
        Face box written to the yaml entry.
    index : (int, int)
        Animal and session index (seed the pose noise).
    fps, k : float
        Frame rate and frame-size factor (pose jitter ``1.5 * k`` px).
    seed : int
        Dataset seed.
    subject : str, optional
        Real identity behind the animal (yaml ``subject``).
    progress : callable, optional
        Called with 1 per frame written.

    Returns
    -------
    trials : DataFrame
        The plan's trials with ``session``, ``animal`` and ``onset_frame``.
    entry : dict
        The session's ``mouseface.yaml`` entry.
    """
    write_video(
        out / "videos" / f"{plan.id}.mp4",
        frames,
        fps=fps,
        crf=_CRF,
        preset=_PRESET,
        progress=None if progress is None else (lambda _n: progress(1)),
    )
    events = plan.trials[list(EVENT_COLUMNS)].copy()
    if plan.state is None:
        events = events.drop(columns="state")
    write_events(events, out / "events" / f"{plan.id}.tsv")
    write_parquet_atomic(out / "truth" / f"{plan.id}.parquet", tl.truth())
    write_synthetic_pose(
        out / "pose" / f"{plan.id}.h5",
        keypoints(),
        fps=fps,
        rng=np.random.default_rng([seed, POSE_SALT, *index]),
        paw=tl.paw,
        jitter=1.5 * k,
    )
    tr = plan.trials.copy()
    tr.insert(0, "session", plan.id)
    tr.insert(1, "animal", plan.animal)
    tr["onset_frame"] = np.ceil(tr["onset"] * fps - 1e-9).astype(np.int64)
    entry = {
        "id": plan.id,
        "animal": plan.animal,
        **({"subject": subject} if subject is not None else {}),
        "video": f"videos/{plan.id}.mp4",
        "events": f"events/{plan.id}.tsv",
        "roi": list(roi),
        **({"state": plan.state} if plan.state is not None else {}),
        "pose": f"pose/{plan.id}.h5",
    }
    return tr, entry
