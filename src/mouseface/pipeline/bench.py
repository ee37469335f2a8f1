"""``mouseface bench``: speed and memory, measured against the reference in the same run.

1. HOG frames/s of :func:`mouseface.hog` vs ``skimage.feature.hog`` on the same real frames
   (480x640 and 240x320), their ratio and the max abs difference.
2. End-to-end ``analyze`` frames/s on a 640x480, 30 fps H.264 video with the whole frame as ROI,
   vs its real-time rate, with and without per-frame stabilisation.
3. Peak resident memory of ``analyze`` (in a fresh process) on a short and a long video.

Real frames come from ``../shared/data/pupil/sample_video.mp4`` (or ``$MOUSEFACE_DATA``); without
it the synthetic generator's frames are used and the table says so.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mouseface import __version__
from mouseface.features.hog_bench import bench_hog, pupil_benchmark_frames
from mouseface.io.writer import write_video

__all__ = ["find_shared_video", "make_benchmark_video", "run_bench"]


def find_shared_video() -> Path | None:
    """The shared real face video, if it can be found (``$MOUSEFACE_DATA`` or ../shared/data)."""
    candidates = [Path(os.environ["MOUSEFACE_DATA"])] if "MOUSEFACE_DATA" in os.environ else []
    here = Path.cwd().resolve()
    candidates += [p / "shared" / "data" for p in (here, *here.parents)]
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for c in candidates:
        if (c / "pupil" / "sample_video.mp4").is_file():
            return c / "pupil" / "sample_video.mp4"
    return None


def _source_frames(n: int) -> tuple[np.ndarray, str]:
    video = find_shared_video()
    if video is not None:
        return pupil_benchmark_frames(video, n_frames=n)["480x640"], f"real ({video.name})"
    from mouseface.synth.anatomy import random_anatomy
    from mouseface.synth.render import FaceRenderer

    rng = np.random.default_rng(0)
    renderer = FaceRenderer(random_anatomy(rng), size=(480, 640))
    frames = np.stack([renderer.render({}, rng=rng) for _ in range(min(n, 60))])
    return frames, "synthetic (shared data not found)"


def make_benchmark_video(path: Path, *, seconds: float, fps: int = 30) -> Path:
    """A 640x480 H.264 video of ``seconds`` length, looping real face frames (forth and back)."""
    base, _ = _source_frames(150)
    loop = np.concatenate([base, base[::-1]])
    n = int(round(seconds * fps))
    write_video(path, (loop[i % len(loop)] for i in range(n)), fps=fps, crf=20, preset="ultrafast")
    return path


def _analyze_child(video: Path, out: Path, stabilise: bool) -> dict:
    """Run ``analyze`` in a fresh process; return its wall time and peak RSS."""
    code = (
        "import json, resource, sys, time\n"
        "from mouseface.pipeline import analyze_video\n"
        f"ev = {str(video.with_suffix('.tsv'))!r}\n"
        "t = time.perf_counter()\n"
        f"analyze_video({str(video)!r}, ev, {str(out)!r}, report=False, "
        f"stabilise={stabilise})\n"
        "dt = time.perf_counter() - t\n"
        "print(json.dumps({'seconds': dt, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _end_to_end(folder: Path, *, seconds: float, stabilise: bool, fps: int = 30) -> dict:
    video = folder / f"face_{int(seconds)}s.mp4"
    if not video.exists():
        make_benchmark_video(video, seconds=seconds, fps=fps)
        onsets = np.arange(10.0, seconds - 5, 20.0)
        video.with_suffix(".tsv").write_text(
            "onset\tduration\ttrial_type\n" + "".join(f"{o}\t1\tstim\n" for o in onsets)
        )
    r = _analyze_child(video, folder / f"out_{int(seconds)}_{int(stabilise)}", stabilise)
    n = int(round(seconds * fps))
    return {
        "video_s": seconds,
        "frames": n,
        "stabilise": stabilise,
        "fps": n / r["seconds"],
        "x_real_time": n / r["seconds"] / fps,
        "peak_rss_mb": r["peak_rss_mb"],
        "seconds": r["seconds"],
    }


def run_bench(
    *, json_path: Path | None = None, quick: bool = False, long_minutes: float = 60.0, console=None
) -> dict:  # noqa: ANN001
    """Run every benchmark, print a table (to ``console``, a rich Console) and return results."""
    results: dict = {
        "mouseface": __version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    frames, source = _source_frames(40 if quick else 100)
    import cv2

    sizes = {
        "480x640": frames,
        "240x320": np.stack(
            [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in frames]
        ),
    }
    results["hog_frames"] = source
    results["hog"] = bench_hog(sizes, repeats=2 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="mouseface-bench-") as tmp:
        folder = Path(tmp)
        short = 20.0 if quick else 120.0
        results["end_to_end"] = [
            _end_to_end(folder, seconds=short, stabilise=False),
            _end_to_end(folder, seconds=short, stabilise=True),
        ]
        if not quick:
            results["end_to_end"].append(
                _end_to_end(folder, seconds=long_minutes * 60, stabilise=False)
            )
    results["bench_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if console is not None:
        _print(results, console)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


def _print(results: dict, console) -> None:  # noqa: ANN001
    from rich.table import Table

    t = Table(title=f"HOG vs scikit-image ({results['hog_frames']} frames, paper parameters)")
    for c in (
        "size",
        "frames",
        "skimage f/s",
        "mouseface f/s (1 core)",
        "f/s (all cores)",
        "ratio",
        "max |diff|",
    ):
        t.add_column(c, justify="right")
    for r in results["hog"]:
        t.add_row(
            r["size"],
            str(r["n_frames"]),
            f"{r['skimage_fps']:.1f}",
            f"{r['mouseface_fps']:.1f}",
            f"{r['mouseface_fps_parallel']:.1f}",
            f"{r['ratio']:.1f}x",
            f"{r['max_abs_diff']:.1e}",
        )
    console.print(t)
    e = Table(title="analyze end to end, 640x480 30 fps H.264, whole frame as ROI")
    for c in ("video", "stabilise", "frames/s", "x real time", "peak RSS (MB)"):
        e.add_column(c, justify="right")
    for r in results["end_to_end"]:
        e.add_row(
            f"{r['video_s'] / 60:.1f} min",
            "on" if r["stabilise"] else "off",
            f"{r['fps']:.0f}",
            f"{r['x_real_time']:.1f}",
            f"{r['peak_rss_mb']:.0f}",
        )
    console.print(e)
    console.print(
        f"{results['machine']}, {results['cpus']} CPUs, Python {results['python']}, "
        f"mouseface {results['mouseface']}, {results['date']}"
    )
