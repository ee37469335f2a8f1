"""Benchmark: frames/s of ``mouseface overlay`` for a 320-px face, drawing alone and end to end.

Run ``taskset -c 0 python benchmarks/bench_overlay.py [N_FRAMES]`` (one core). It writes a
synthetic 320x240 face video (a moving textured blob, 25 frames/s), extracts its features into a
real ``features.zarr``, writes a ``frames.parquet`` with seven ``strength_<e>`` columns and a
``predicted`` column, then times (1) :class:`FramePainter.paint` alone on every frame (face
resize, HOG glyph, label, traces) and (2) :func:`mouseface.report.overlay.render_overlay`
end to end (decode, draw, H.264 encode, atomic write). Rates are given per CPU second
(``time.thread_time`` / ``time.process_time``, which a busy shared machine does not inflate) and,
for the end-to-end run, per wall-clock second too. Prints one line per measurement.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from mouseface.features.extract import extract_features
from mouseface.io.writer import write_video
from mouseface.report.overlay import render_overlay

EMOTIONS = ["pleasure", "disgust", "malaise", "pain", "passive_fear", "active_fear"]


def _video(path: Path, n: int, fps: float) -> Path:
    rng = np.random.default_rng(0)
    bg = rng.integers(30, 120, size=(240, 320)).astype(np.uint8)
    yy, xx = np.mgrid[0:240, 0:320]

    def frames():
        for i in range(n):
            cx, cy = 160 + 60 * np.sin(i / 20), 120 + 30 * np.cos(i / 15)
            blob = 120 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 800)
            yield np.clip(bg + blob, 0, 255).astype(np.uint8)

    return write_video(path, frames(), fps=fps)


def build(root: Path, n: int, fps: float = 25.0) -> Path:
    """A one-session output folder with a 320x240 face; returns the output folder."""
    video = _video(root / "face.mp4", n, fps)
    out = root / "out"
    sdir = out / "sessions" / "s00"
    sdir.mkdir(parents=True)
    extract_features(video, sdir / "features.zarr", hog_params={"orientations": 8})
    times = zarr.open_group(str(sdir / "features.zarr"), mode="r")["time"][:]
    rng = np.random.default_rng(1)
    frames = pd.DataFrame({"frame": np.arange(len(times)), "time": times})
    for e in EMOTIONS:
        frames[f"strength_{e}"] = np.cumsum(rng.standard_normal(len(times))) * 0.01
    best = frames[[f"strength_{e}" for e in EMOTIONS]].to_numpy().argmax(axis=1)
    frames["predicted"] = np.asarray(EMOTIONS)[best]
    frames.to_parquet(sdir / "frames.parquet")
    prov = {"config": {"sessions": [{"id": "s00", "video": str(video)}]}, "sessions": {}}
    (out / "provenance.json").write_text(json.dumps(prov))
    return out


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 500
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"overlay benchmark: {platform.processor() or platform.machine()}, {affinity} CPU(s) "
        f"usable, load average {os.getloadavg()[0]:.1f}; 320x240 face, {n} frames"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = build(Path(tmp), n)
        render_overlay(out, "s00", end=1.0, path=Path(tmp) / "warm.mp4")  # imports, numba
        import mouseface.report.overlay as ov

        painted: list[float] = []
        orig = ov.FramePainter.paint

        def timed(self, *a, **k):  # noqa: ANN001, ANN002, ANN003
            t = time.thread_time()
            r = orig(self, *a, **k)
            painted.append(time.thread_time() - t)
            return r

        ov.FramePainter.paint = timed  # type: ignore[method-assign]
        cpu0 = time.process_time()
        try:
            res = render_overlay(out, "s00", path=Path(tmp) / "overlay.mp4")
            cpu = time.process_time() - cpu0
        finally:
            ov.FramePainter.paint = orig  # type: ignore[method-assign]
        draw = len(painted) / sum(painted)
        print(f"drawing alone (paint), per CPU second: {draw:.1f} frames/s")
        print(
            f"end to end (decode + draw + H.264 veryfast + write), per CPU second of the process "
            f"(all its threads): {res.n_frames / cpu:.1f} frames/s; wall clock: "
            f"{res.n_frames / res.seconds:.1f} frames/s ({res.n_frames} frames of "
            f"{res.width}x{res.height} in {res.seconds:.2f} s wall, {cpu:.2f} s CPU)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
