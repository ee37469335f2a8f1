"""Benchmark: mouseface HOG vs scikit-image on real frames of the shared pupil video.

Run ``python benchmarks/bench_hog.py [VIDEO] [N_FRAMES] [REPEATS]``; prints one row per frame
size. The timing code lives in :mod:`mouseface.features.hog_bench` (also used by
``mouseface bench``).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from mouseface.features.hog_bench import bench_hog, pupil_benchmark_frames

DEFAULT_VIDEO = Path(__file__).resolve().parents[1].parent / "shared/data/pupil/sample_video.mp4"


def main(argv: list[str]) -> int:
    video = Path(argv[0]) if argv else DEFAULT_VIDEO
    n_frames = int(argv[1]) if len(argv) > 1 else 100
    repeats = int(argv[2]) if len(argv) > 2 else 3
    frames = pupil_benchmark_frames(video, n_frames=n_frames)
    rows = bench_hog(frames, repeats=repeats)
    print(
        f"HOG benchmark on {video.name}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs; paper parameters; best of {repeats}"
    )
    print(
        f"{'size':>8} {'frames':>6} {'skimage fps':>12} {'ours fps':>9} {'ours fps (all)':>15} "
        f"{'ratio':>6} {'max abs diff':>13}"
    )
    for r in rows:
        print(
            f"{r['size']:>8} {r['n_frames']:>6} {r['skimage_fps']:>12.1f} "
            f"{r['mouseface_fps']:>9.1f} {r['mouseface_fps_parallel']:>15.1f} "
            f"{r['ratio']:>6.1f} {r['max_abs_diff']:>13.2e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
