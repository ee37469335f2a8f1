"""Per-animal anatomy and fur of a synthetic mouse, drawn from a seed.

Animals differ in head size and shape, snout length, ear and eye size, resting ear angle, fur
brightness and texture, whisker number, length and brightness, the position of the face in the
frame, and in how strongly each action unit moves (``expressivity``). Lengths are in pixels of the
reference 240 x 320 (h x w) frame; the renderer scales them to the frame size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mouseface.errors import InputError
from mouseface.synth.profiles import AU_NAMES

__all__ = ["Anatomy", "random_anatomy"]


@dataclass(frozen=True)
class Anatomy:
    """Fixed traits of one synthetic animal.

    Attributes
    ----------
    name : str
        Animal id (e.g. ``"m1"``).
    seed : int
        Seed of the animal's fur texture and whisker layout.
    scale : float
        Overall head size (1 = reference).
    snout_length : float
        Stretch of the face in front of the eye (1 = reference).
    head_height : float
        Vertical stretch of the head (1 = reference).
    ear_size : float
        Pinna size (1 = reference, 52 px long).
    eye_size : float
        Eye size (1 = reference, 22 x 14 px).
    ear_rest_angle : float
        Resting tilt of the pinna axis behind vertical, degrees.
    fur : float
        Mean fur gray level (0-255) under the reference illumination.
    fur_contrast : float
        Standard deviation of the fur texture, gray levels.
    fur_grain : float
        Length of fur strands in the texture, pixels.
    ear_brightness : float
        Gray level of the pinna skin.
    background : float
        Gray level of the background.
    whisker_count : int
        Number of whiskers drawn.
    whisker_length : float
        Whisker length multiplier (1 = reference).
    whisker_brightness : float
        Gray level of the whiskers.
    offset : tuple of float
        ``(dx, dy)`` position of the face in the frame relative to the reference, pixels.
    expressivity : tuple of float
        Per action unit gain on the emotion profiles, in ``AU_NAMES`` order (~1).
    """

    name: str
    seed: int
    scale: float = 1.0
    snout_length: float = 1.0
    head_height: float = 1.0
    ear_size: float = 1.0
    eye_size: float = 1.0
    ear_rest_angle: float = 15.0
    fur: float = 120.0
    fur_contrast: float = 14.0
    fur_grain: float = 5.0
    ear_brightness: float = 160.0
    background: float = 45.0
    whisker_count: int = 22
    whisker_length: float = 1.0
    whisker_brightness: float = 190.0
    offset: tuple[float, float] = (0.0, 0.0)
    expressivity: tuple[float, ...] = (1.0,) * len(AU_NAMES)


def random_anatomy(seed: int | np.random.Generator, *, name: str = "m1") -> Anatomy:
    """Draw one animal's anatomy.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        Seed (or generator) that fixes every trait; the same seed gives the same animal.
    name : str, optional
        Animal id stored in the result.

    Returns
    -------
    Anatomy
        Traits drawn from ranges chosen to look like different mice of one strain under one
        camera: sizes +-10 %, ears and eyes +-15 %, fur 95-150 gray, position +-8 px.
    """
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif isinstance(seed, int | np.integer) and seed >= 0:
        rng = np.random.default_rng(int(seed))
    else:
        raise InputError(f"random_anatomy: seed must be an int >= 0 or a Generator, got {seed!r}")
    fur = float(rng.uniform(95.0, 150.0))
    return Anatomy(
        name=name,
        seed=int(rng.integers(0, 2**31 - 1)),
        scale=float(rng.uniform(0.92, 1.08)),
        snout_length=float(rng.uniform(0.9, 1.1)),
        head_height=float(rng.uniform(0.92, 1.08)),
        ear_size=float(rng.uniform(0.85, 1.15)),
        eye_size=float(rng.uniform(0.85, 1.15)),
        ear_rest_angle=float(rng.uniform(5.0, 25.0)),
        fur=fur,
        fur_contrast=float(rng.uniform(8.0, 20.0)),
        fur_grain=float(rng.uniform(3.0, 7.0)),
        ear_brightness=float(min(fur + rng.uniform(25.0, 55.0), 235.0)),
        background=float(rng.uniform(25.0, 60.0)),
        whisker_count=int(rng.integers(18, 27)),
        whisker_length=float(rng.uniform(0.85, 1.15)),
        whisker_brightness=float(rng.uniform(150.0, 200.0)),
        offset=(float(rng.uniform(-8.0, 8.0)), float(rng.uniform(-8.0, 8.0))),
        expressivity=tuple(float(g) for g in rng.lognormal(0.0, 0.12, len(AU_NAMES))),
    )
