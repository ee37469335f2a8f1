"""Run the per-session feature extraction on several processes or on a dask cluster.

Local parallelism uses a process pool (``--jobs N``); an existing dask.distributed scheduler
(``--scheduler tcp://host:port``) spreads the sessions over its workers, which must see the same
file paths. Results come back in the sessions' order; a failing session raises its error.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from mouseface.errors import InputError
from mouseface.io.config import ProjectConfig
from mouseface.pipeline.session import SessionFeatures, SessionInputs, extract_session

__all__ = ["map_sessions"]


def _extract_one(s: SessionInputs, cfg: ProjectConfig, out: Path, resume: bool) -> SessionFeatures:
    return extract_session(s, cfg, out, resume=resume)


def map_sessions(
    sessions: list[SessionInputs],
    cfg: ProjectConfig,
    out: Path,
    *,
    jobs: int,
    resume: bool,
    scheduler: str | None = None,
    on_done: Callable[[SessionFeatures], None] | None = None,
) -> list[SessionFeatures]:
    """Extract every session's features in parallel.

    Parameters
    ----------
    sessions : list of SessionInputs
        Validated, registered and face-sized sessions.
    cfg : ProjectConfig
    out : Path
        Output folder.
    jobs : int
        Worker processes (local pool); ignored with ``scheduler``.
    resume : bool
        Reuse finished feature stores.
    scheduler : str, optional
        dask.distributed scheduler address.
    on_done : callable, optional
        Called with each session as it finishes (progress).

    Returns
    -------
    list of SessionFeatures
        In the order of ``sessions`` (values computed in the workers and sent back).
    """
    if scheduler is not None:
        try:
            from dask.distributed import Client
            from dask.distributed import as_completed as dask_completed
        except ImportError as exc:
            raise InputError(
                "--scheduler needs dask.distributed: pip install 'mouseface[dist]'"
            ) from exc
        with Client(scheduler) as client:
            futures = [
                client.submit(_extract_one, s, cfg, out, resume, pure=False) for s in sessions
            ]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[SessionFeatures | None] = [None] * len(sessions)
            for fut in dask_completed(futures):
                results[index[fut.key]] = fut.result()
                if on_done is not None:
                    on_done(results[index[fut.key]])
            return results  # type: ignore[return-value]
    results = [None] * len(sessions)
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=mp.get_context("spawn")) as pool:
        futs = {pool.submit(_extract_one, s, cfg, out, resume): i for i, s in enumerate(sessions)}
        for fut in as_completed(futs):
            results[futs[fut]] = fut.result()
            if on_done is not None:
                on_done(results[futs[fut]])
    return results  # type: ignore[return-value]
