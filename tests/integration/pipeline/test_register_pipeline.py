"""Sessions of one animal recorded with the camera moved are registered onto the first one."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from helpers import write_video
from mouseface.io.config import config_from_dict
from mouseface.pipeline import run_project


def _pupil_frames(video: Path, n: int = 60) -> np.ndarray:
    out = []
    with av.open(str(video)) as c:
        for f in c.decode(video=0):
            out.append(cv2.resize(f.to_ndarray(format="gray"), (400, 240)))
            if len(out) == n:
                break
    return np.stack(out)


def test_second_session_is_registered_to_the_first(pupil_video: Path, tmp_path: Path):
    frames = _pupil_frames(pupil_video)
    # the "next day": camera moved 6 px right, 4 px up, rotated 3 degrees
    m = cv2.getRotationMatrix2D((199.5, 119.5), 3.0, 1.0)
    m[:, 2] += (6.0, -4.0)
    moved = np.stack(
        [cv2.warpAffine(f, m, (400, 240), borderMode=cv2.BORDER_REPLICATE) for f in frames]
    )
    write_video(tmp_path / "d1.mp4", frames, fps=20)
    write_video(tmp_path / "d2.mp4", moved, fps=20)
    (tmp_path / "ev.tsv").write_text("onset\tduration\ttrial_type\n2\t0.5\tpuff\n")
    roi = [60, 40, 280, 160]
    cfg = config_from_dict(
        {
            "sessions": [
                {"id": "d1", "animal": "m", "video": "d1.mp4", "events": "ev.tsv", "roi": roi},
                {"id": "d2", "animal": "m", "video": "d2.mp4", "events": "ev.tsv", "roi": roi},
            ],
            "emotions": {"puff": "startle"},
            "align_sessions": True,
            "hog": {"face_width": 160},
        },
        base=tmp_path,
    )
    run_project(cfg, tmp_path / "out", report=False)
    reg = json.loads((tmp_path / "out" / "provenance.json").read_text())["sessions"]
    assert reg["d1"]["registration"]["reference_session"] == "d1"
    r2 = reg["d2"]["registration"]
    assert r2["reference_session"] == "d1"
    # mapping d2 back onto d1 undoes the move
    assert r2["rotation"] == pytest.approx(-3.0, abs=0.5)
    assert abs(r2["scale"] - 1.0) < 0.01
    assert np.hypot(r2["dx"] + 6.0, r2["dy"] - 4.0) < 1.5  # crop-centre vs frame-centre rotation
