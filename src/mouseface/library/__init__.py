"""Shareable prototype libraries: save one lab's prototypes, load them, apply them to new videos.

- :func:`save_library` / :func:`load_library` (:mod:`mouseface.library.store`): one netCDF file
  with the pooled and per-animal prototypes, reference faces and HOG geometry.
- :func:`apply_library` (:mod:`mouseface.library.apply`): register another lab's face onto the
  library's reference face and read every frame's strength and emotion with its prototypes.
"""

from __future__ import annotations

from mouseface.library.apply import LibraryResult, apply_library
from mouseface.library.store import Library, load_library, save_library

__all__ = ["Library", "LibraryResult", "apply_library", "load_library", "save_library"]
