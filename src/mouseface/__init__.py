"""mouseface: read emotion from the faces of mice (Dolensek et al., Science 2020) as a tool."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
