"""Synthetic side-view mouse-face videos with known ground truth (for the demo and tests).

- :func:`generate_dataset` writes videos, events, ground truth and ``mouseface.yaml``.
- :class:`FaceRenderer` draws single frames of one animal from facial action units.
- :mod:`~mouseface.synth.profiles` holds the emotion profiles (action units, time courses,
  intensity and internal-state scaling); see ``docs/synth.md`` for their sources.
"""

from __future__ import annotations

from mouseface.synth.anatomy import Anatomy, random_anatomy
from mouseface.synth.dataset import generate_dataset, planned_frames
from mouseface.synth.profiles import (
    AU_NAMES,
    EMOTIONS,
    PROFILES,
    STIMULI,
    STIMULUS_EMOTION,
    EmotionProfile,
    Stimulus,
    expression_amplitude,
    intensity_gain,
    state_gain,
    time_course,
)
from mouseface.synth.render import FaceRenderer

__all__ = [
    "AU_NAMES",
    "EMOTIONS",
    "PROFILES",
    "STIMULI",
    "STIMULUS_EMOTION",
    "Anatomy",
    "EmotionProfile",
    "FaceRenderer",
    "Stimulus",
    "expression_amplitude",
    "generate_dataset",
    "intensity_gain",
    "planned_frames",
    "random_anatomy",
    "state_gain",
    "time_course",
]
