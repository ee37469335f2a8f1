"""mouseface.features: per-frame features of face crops (batch HOG equal to scikit-image)."""

from __future__ import annotations

from mouseface.features.hog import hog, hog_shape

__all__ = ["hog", "hog_shape"]
