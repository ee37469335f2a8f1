"""Face region of interest, registration to a reference face and per-frame stabilisation.

- :func:`parse_roi`, :func:`check_roi`, :func:`propose_roi`, :func:`save_roi_png`: the face
  box ``(x, y, w, h)`` in pixels, given by hand or proposed from sampled frames.
- :func:`estimate_transform`, :func:`apply_transform`, :class:`Transform`: align a session's
  face to a reference face (translation, rotation, scale), as done across days in
  Dolensek et al. (2020).
- :class:`Stabiliser`: fast sub-pixel translation of every frame onto a reference, for
  head or camera jitter within a session.
"""

from __future__ import annotations

from mouseface.face.registration import Transform, apply_transform, estimate_transform
from mouseface.face.roi import check_roi, parse_roi, propose_roi, save_roi_png
from mouseface.face.stabilise import Stabiliser

__all__ = [
    "Stabiliser",
    "Transform",
    "apply_transform",
    "check_roi",
    "estimate_transform",
    "parse_roi",
    "propose_roi",
    "save_roi_png",
]
