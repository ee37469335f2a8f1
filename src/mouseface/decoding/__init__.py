"""Emotion decoders (scikit-learn estimators), the one factory that builds them, their
cross-validated evaluation and metrics.

- :mod:`~mouseface.decoding.factory`: :func:`make_decoder` (``prototype``, ``forest``,
  ``linear``, optionally behind the neutral gate) for every caller;
- :mod:`~mouseface.decoding.estimators`: :class:`PrototypeClassifier` (nearest prototype by
  Pearson r, the paper's readout as a classifier); :mod:`~mouseface.decoding.gated`:
  :class:`ChangeGatedClassifier` (neutral when the face has not changed);
- :mod:`~mouseface.decoding.evaluation`: out-of-fold predictions by animal, session or random
  splits, and the decoding analysis' tables;
- :mod:`~mouseface.decoding.scoring`: :func:`score_frames` (balanced accuracy of any frame
  selection with an animal-bootstrap interval and permutation chance) and
  :func:`score_against_truth` (synthetic data: frames chosen by the ground truth).
"""

from __future__ import annotations

from mouseface.decoding.estimators import PrototypeClassifier
from mouseface.decoding.factory import DECODERS, GATE_THRESHOLD, make_decoder
from mouseface.decoding.gated import ChangeGatedClassifier

__all__ = [
    "DECODERS",
    "GATE_THRESHOLD",
    "ChangeGatedClassifier",
    "PrototypeClassifier",
    "make_decoder",
]
