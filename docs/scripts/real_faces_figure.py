"""Draw docs/real_faces.png: the neutral face and each emotion's peak for animal m1 of the
real-face demo (seed 0), and the automatically found landmarks of the three shipped mice.

usage: python docs/scripts/real_faces_figure.py [OUT.png]   (run from the project root)
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from mouseface.synth import EMOTIONS, PROFILES
from mouseface.synth.dataset import _plan
from mouseface.synth.faces import load_identity, shipped_identities
from mouseface.synth.landmarks import LANDMARK_NAMES
from mouseface.synth.real_dataset import _STYLE_SALT, animal_style
from mouseface.synth.real_render import RealFaceRenderer


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/real_faces.png"
    anatomy = _plan(1, 0, 3, ("thirsty", "sated"))[0][0]
    style = animal_style(np.random.default_rng([0, _STYLE_SALT, 0]))
    face = load_identity(shipped_identities()[0])
    r = RealFaceRenderer(face, size=(240, 320))
    base = np.clip(np.round(face.median()), 0, 255).astype(np.uint8)
    x, y, w, h = r.face_box
    tiles = []
    for j, e in enumerate(EMOTIONS):
        au = np.asarray(PROFILES[e].au) * style[j] * np.asarray(anatomy.expressivity)
        tiles.append(_label(r.render(base, au)[y : y + h, x : x + w], e))
    marks = []
    colours = [(0, 0, 255), (0, 255, 0), (0, 200, 255), (255, 0, 0), (255, 0, 255), (255, 255, 0),
               (0, 128, 255), (128, 0, 255), (255, 128, 0), (128, 255, 128)]  # fmt: skip
    for name in shipped_identities():
        rr = RealFaceRenderer(load_identity(name), size=(240, 320))
        img = np.clip(np.round(rr.footage.median()), 0, 255).astype(np.uint8)
        img = _label(cv2.resize(img, (320, 240), interpolation=cv2.INTER_LINEAR), name)
        for (px, py), c in zip(rr.landmarks_at(np.zeros(10)), colours, strict=True):
            cv2.circle(img, (int(round(px)), int(round(py))), 3, c, -1, cv2.LINE_AA)
        marks.append(img[y : y + h, x : x + w])
    marks.append(np.zeros_like(marks[0]))
    cv2.putText(marks[-1], "landmarks:", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255))
    for i, (n, c) in enumerate(zip(LANDMARK_NAMES, colours, strict=True)):
        cv2.putText(marks[-1], n, (8, 30 + 11 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.35, c)
    grid = np.vstack(
        [np.hstack(tiles[:4]), np.hstack([*tiles[4:], tiles[0] * 0]), np.hstack(marks)]
    )
    cv2.imwrite(path, grid, [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()
