"""Make the real-face footage shipped in ``src/mouseface/synth/faces/`` from the DER mosaics.

usage: python docs/scripts/make_real_faces.py [DER_DIR] [OUT_DIR]
(defaults: ../shared/data/der and src/mouseface/synth/faces, relative to the project root)

For each of the three DER mosaics (one mouse each, MIT licence, see the LICENSE copied beside the
output) it keeps only footage WITHOUT a real expression: all 100 frames of the six 0-uA tiles
(row 0) and frames 0..39 (before the shock on frame 40) of the 24 other tiles. Each tile is
aligned to the mouse's first 0-uA tile (translation by phase correlation of the tiles' median
frames, sub-pixel), cropped to the face region (tile x 0..120, y 15..105: 120 x 90 px, face,
ear, snout and mouth; the tile label and the trigger square stay outside) and the clips
are written one after the other into ``<identity>.mp4`` (H.264, gray, crf 16) with
``<identity>.json`` listing the clip lengths and sources. Run from the project root.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import av
import cv2
import numpy as np

TILE_H, TILE_W = 140, 233
CROP_X, CROP_Y, CROP_W, CROP_H = 0, 15, 120, 90
SHOCK = 40
CRF = 16


def _decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="gray") for f in c.decode(video=0)])


def _shift(frames: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return np.stack(
        [
            cv2.warpAffine(
                f,
                m,
                (f.shape[1], f.shape[0]),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )  # fmt: skip
            for f in frames
        ]
    )


def main() -> None:
    der = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/der")
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "src/mouseface/synth/faces")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(der / "LICENSE", out / "LICENSE")
    for mosaic in sorted(der.glob("2024-*-der.mp4")):
        ident = "ECO_" + mosaic.stem.split("-ECO_")[1].replace("-der", "")
        frames = _decode(mosaic)
        tiles = {
            (r, k): frames[:, r * TILE_H : (r + 1) * TILE_H, k * TILE_W : k * TILE_W + 232]
            for r in range(5)
            for k in range(6)
        }
        win = np.hanning(120)[:, None] * np.hanning(120)[None, :]
        ref = np.median(tiles[0, 0], axis=0)[15:135, 0:120].astype(np.float64)
        clips, meta = [], []
        for (r, k), tile in tiles.items():
            med = np.median(tile, axis=0)[15:135, 0:120].astype(np.float64)
            (dx, dy), _ = cv2.phaseCorrelate(med * win, ref * win)
            aligned = _shift(tile, dx, dy)
            keep = aligned if r == 0 else aligned[:SHOCK]
            clips.append(keep[:, CROP_Y : CROP_Y + CROP_H, CROP_X : CROP_X + CROP_W])
            meta.append(
                {
                    "row": r,
                    "column": k,
                    "intensity_uA": [0, 50, 150, 300, 500][r],
                    "frames": [0, len(keep)],
                    "shift_px": [round(float(dx), 2), round(float(dy), 2)],
                }
            )
        path = out / f"{ident}.mp4"
        with av.open(str(path), "w") as o:
            s = o.add_stream("libx264", rate=20)
            s.width, s.height, s.pix_fmt = CROP_W, CROP_H, "yuv420p"
            s.options = {"crf": str(CRF), "preset": "veryslow"}
            for clip in clips:
                for f in clip:
                    o.mux(s.encode(av.VideoFrame.from_ndarray(f, format="gray")))
            o.mux(s.encode())
        info = {
            "identity": ident,
            "source": f"DER_videos (github.com/raffaelemazziotti/DER_videos, commit 30e73fd2), "
            f"{mosaic.name}",
            "licence": "MIT (LICENSE beside this file)",
            "fps": 20.0,
            "facing": "left",
            "crop_in_tile": [CROP_X, CROP_Y, CROP_W, CROP_H],
            "clips": meta,
        }
        (out / f"{ident}.json").write_text(json.dumps(info, indent=1) + "\n")
        print(path, sum(len(c) for c in clips), "frames", path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
