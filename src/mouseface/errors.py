"""Exceptions raised by mouseface.

``InputError`` is the one exception for bad user input (a file that is missing or malformed,
a parameter out of range). The CLI turns it into a one-line message and exit code 2; anything
else is a bug and exits with code 1.
"""

from __future__ import annotations

__all__ = ["InputError", "MousefaceWarning", "DecodeWarning"]


class InputError(ValueError):
    """Bad input: the message names the file, row or frame and says how to fix it."""


class MousefaceWarning(UserWarning):
    """Base class of the warnings mouseface emits."""


class DecodeWarning(MousefaceWarning):
    """A video could be decoded only in part (truncated or corrupt file)."""
