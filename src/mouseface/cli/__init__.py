"""The ``mouseface`` command line (typer): thin commands that parse, call the pipeline and print.

:data:`app` is the typer application, :func:`main` the console-script entry point.
"""

from __future__ import annotations

from mouseface.cli.app import app, main

__all__ = ["app", "main"]
