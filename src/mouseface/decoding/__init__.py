"""Emotion decoders (scikit-learn estimators), the one factory that builds them, their
cross-validated evaluation and metrics.

- :mod:`~mouseface.decoding.estimators`: :class:`PrototypeClassifier` (nearest prototype by
  Pearson r, the paper's readout as a classifier) and :class:`ChangeGatedClassifier` (neutral
  when the face has not changed, otherwise the wrapped classifier).
- :mod:`~mouseface.decoding.evaluation`: cross-validation by animal, session or random splits.
"""

from __future__ import annotations

from mouseface.decoding.estimators import PrototypeClassifier, make_decoder
from mouseface.decoding.gated import ChangeGatedClassifier, make_frame_decoder

__all__ = ["ChangeGatedClassifier", "PrototypeClassifier", "make_decoder", "make_frame_decoder"]
