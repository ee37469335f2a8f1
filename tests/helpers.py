"""Small synthetic test videos written with PyAV (constant and variable frame rate)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def moving_square(n: int, h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    """uint8 (n, h, w) frames: a bright square moving right on textured background."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 90, size=(h, w)).astype(np.uint8)
    frames = np.repeat(bg[None], n, axis=0)
    for i in range(n):
        x = 4 + (i * 2) % (w - 20)
        frames[i, 20:36, x : x + 16] = 220
    return frames


def write_video(
    path: Path,
    frames: np.ndarray,
    *,
    times: list[float] | None = None,
    fps: int = 20,
    codec: str = "libx264",
    faststart: bool = False,
) -> Path:
    """Write gray frames; with ``times`` the frames get those timestamps (variable rate)."""
    tb = Fraction(1, 1000)
    opts = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=opts) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height = frames.shape[2], frames.shape[1]
        s.pix_fmt = "yuv420p"
        s.time_base = tb
        s.codec_context.time_base = tb
        s.options = {"crf": "10"} if codec == "libx264" else {}
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.repeat(f[..., None], 3, axis=2), format="rgb24")
            t = times[i] if times is not None else i / fps
            vf.pts = int(round(t * 1000))
            vf.time_base = tb
            for pkt in s.encode(vf):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path
