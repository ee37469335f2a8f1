"""A tiny run output folder for the overlay video's tests (built in < 1 s, no pipeline run).

One session ``s00``: a 2.4-s gray video (20 frames/s) of a moving bright square, its real
``features.zarr`` (written by :func:`mouseface.features.extract.extract_features`), a
``frames.parquet`` with two ``strength_<e>`` columns and, optionally, a ``predicted`` column
that switches from ``pleasure`` to ``pain`` at frame :data:`SWITCH`, a ``trials.parquet`` with
one stimulus and a ``provenance.json`` naming the video and ROI.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import moving_square, write_video
from mouseface.features.extract import extract_features

FPS = 20
N_FRAMES = 48
SWITCH = 24
ROI = (8, 4, 128, 96)  # x, y, w, h: a 128x96 face inside a 144x112 frame
FRAME_HW = (112, 144)


def build_output_folder(root: Path, *, predicted: bool = True) -> Path:
    """Write the folder under ``root`` and return the output folder (``root / "out"``)."""
    root.mkdir(parents=True, exist_ok=True)
    video = write_video(root / "s00.mp4", moving_square(N_FRAMES, *FRAME_HW), fps=FPS)
    out = root / "out"
    sdir = out / "sessions" / "s00"
    sdir.mkdir(parents=True)
    hog = {"orientations": 8, "pixels_per_cell": (32, 32), "cells_per_block": (1, 1)}
    extract_features(video, sdir / "features.zarr", roi=ROI, hog_params=hog)
    t = np.arange(N_FRAMES) / FPS
    pleasure = np.where(np.arange(N_FRAMES) < SWITCH, 0.6, 0.1) + 0.05 * np.sin(t)
    frames = pd.DataFrame(
        {
            "frame": np.arange(N_FRAMES),
            "time": t,
            "change": 0.1 + 0.0 * t,
            "strength_pleasure": pleasure,
            "strength_pain": 0.7 - pleasure,
        }
    )
    if predicted:
        frames["predicted"] = np.where(np.arange(N_FRAMES) < SWITCH, "pleasure", "pain")
        frames["p_pleasure"] = np.where(np.arange(N_FRAMES) < SWITCH, 0.8, 0.2)
        frames["p_pain"] = 1.0 - frames["p_pleasure"]
    frames.to_parquet(sdir / "frames.parquet")
    trials = pd.DataFrame(
        {
            "session": ["s00"],
            "animal": ["m1"],
            "trial": [0],
            "trial_type": ["shock"],
            "emotion": ["pain"],
            "onset": [1.0],
            "duration": [0.5],
        }
    )
    trials.to_parquet(out / "trials.parquet")
    prov = {
        "version": "0.1.0",
        "config": {"sessions": [{"id": "s00", "animal": "m1", "video": str(video)}]},
        "sessions": {"s00": {"roi": list(ROI), "fps": FPS, "n_frames": N_FRAMES}},
    }
    (out / "provenance.json").write_text(json.dumps(prov))
    return out
