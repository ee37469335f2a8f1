"""config -> outputs: the method's stages composed (:mod:`mouseface.pipeline.run`).

- :func:`run_project`: every session of a ``mouseface.yaml`` project.
- :func:`analyze_video`: one video and its events table, no config file.
- :class:`RunResult` (``failures`` of a partial run), :class:`RunFailedError` (no session made it).

Each stage returns an immutable value that the next one takes. Session stages and their values
(``SessionInputs`` -> ``SessionFeatures`` -> ``SessionNeutral`` -> ``SessionStrength``) live in
:mod:`~mouseface.pipeline.session`, project stages (``Prototypes``, decoding) in
:mod:`~mouseface.pipeline.project`, parallel execution in :mod:`~mouseface.pipeline.parallel`.
"""

from __future__ import annotations

from mouseface.pipeline.run import Progress, RunFailedError, RunResult, analyze_video, run_project

__all__ = ["Progress", "RunFailedError", "RunResult", "analyze_video", "run_project"]
