"""mouseface: read emotion from the faces of mice (Dolensek et al., Science 2020) as a tool.

``mouseface.hog(frames, ...)`` is the batch HOG (equal to ``skimage.feature.hog`` per frame);
``mouseface.pipeline.run`` runs whole projects; ``mouseface.decoding.estimators`` holds the
scikit-learn decoders.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "hog", "hog_shape"]


def __getattr__(name: str) -> Any:
    # lazy: importing numba costs a second, and the CLI's --help should not pay it
    if name in ("hog", "hog_shape"):
        import importlib

        return getattr(importlib.import_module("mouseface.features.hog"), name)
    raise AttributeError(f"module 'mouseface' has no attribute {name!r}")
