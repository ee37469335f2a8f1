"""How the HOG amplitude readout of each synthetic expression grows with the expression's amplitude.

Renders noise-free synthetic faces of the four animals of ``mouseface demo`` (``mouseface.synth``,
seed 0) at amplitudes 0 .. 1.4 of
each emotion's action units, computes HOG with the pipeline's parameters (face resized to 320 px
wide, 32-px cells, 8 orientations, L2-Hys per cell, sqrt transform) and projects each face's HOG
change from the neutral face on the direction to the face at amplitude 1 (the readout of
``mouseface.analyses.timecourse``). A readout proportional to the amplitude reads 0.5 at 0.5.

The last columns are the decay time constant that an exponential fit to the readout of an
exponentially decaying expression returns, relative to the true one: from amplitude 1 over
three true time constants, and from 1.1 over 0.7 of one (what the demo data show of malaise:
90 s of video after LiCl for a 120-s decay). That is what the readout's curvature alone does
to the time-course analysis.

Run: ``python docs/scripts/hog_response.py`` (about a minute).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

from mouseface.features.extract import resize_faces
from mouseface.features.hog import hog
from mouseface.synth.anatomy import random_anatomy
from mouseface.synth.profiles import EMOTIONS, PROFILES
from mouseface.synth.render import FaceRenderer

AMPLITUDES = np.round(np.linspace(0.0, 1.4, 8), 2)


def readout_curve(emotion: str, *, n_animals: int = 4, n_frames: int = 8) -> np.ndarray:
    """Mean readout over animals at each of :data:`AMPLITUDES`, shape (len(AMPLITUDES),)."""
    curves = []
    for i, child in enumerate(np.random.SeedSequence(0).spawn(n_animals)):
        animal = random_anatomy(np.random.default_rng(child), name=f"m{i + 1}")
        renderer = FaceRenderer(animal)
        x, y, w, h = renderer.face_box
        rng = np.random.default_rng(i)
        units = np.asarray(PROFILES[emotion].au) * np.asarray(animal.expressivity)
        rows = []
        for a in AMPLITUDES:
            frames = np.stack([
                renderer.render(units * a, dx=rng.normal(0, 0.6), dy=rng.normal(0, 0.6),
                                rotation=rng.normal(0, 0.25), noise=k)
                for k in range(n_frames)
            ])  # fmt: skip
            crops = resize_faces(np.ascontiguousarray(frames[:, y : y + h, x : x + w]),
                                 (int(round(h * 320 / w)), 320))  # fmt: skip
            rows.append(hog(crops, orientations=8, pixels_per_cell=(32, 32),
                            cells_per_block=(1, 1), block_norm="L2-Hys",
                            transform_sqrt=True).mean(axis=0))  # fmt: skip
        H = np.asarray(rows, dtype=np.float64)
        d = H[np.argmin(np.abs(AMPLITUDES - 1.0))] - H[0]
        curves.append((H - H[0]) @ d / (d @ d))
    return np.mean(curves, axis=0)


def apparent_decay(curve: np.ndarray, *, start: float = 1.0, span: float = 3.0) -> float:
    """Fitted / true decay constant of an expression decaying from amplitude ``start``, fitted
    over ``span`` true time constants."""
    t = np.linspace(0.0, span, 200)  # in units of the true time constant
    y = np.interp(start * np.exp(-t), AMPLITUDES, curve)
    (_, tau), _ = curve_fit(lambda s, b, k: b * np.exp(-s / k), t, y, p0=(y[0], 1.0))
    return float(tau)


def main() -> None:
    """Print the table (markdown)."""
    head = " | ".join(f"{a:.2f}" for a in AMPLITUDES)
    print(f"| emotion | {head} | fitted / true decay | same, 1.1 over 0.7 decay |")
    print("|---" * (len(AMPLITUDES) + 3) + "|")
    for emotion in EMOTIONS:
        if emotion == "neutral":
            continue
        c = readout_curve(emotion)
        cells = " | ".join(f"{v:.2f}" for v in c)
        short = apparent_decay(c, start=1.1, span=0.7)
        print(f"| {emotion} | {cells} | {apparent_decay(c):.2f} | {short:.2f} |")


if __name__ == "__main__":
    main()
