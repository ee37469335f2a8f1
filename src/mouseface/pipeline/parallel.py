"""Run every session's feature extraction here, on worker processes or on a dask cluster, and
keep going when a session fails.

Three ways, one contract (:func:`extract_sessions`): in this process (``jobs=1``), on ``jobs``
local worker processes (``--jobs N``), or on the workers of an existing dask.distributed
scheduler (``--scheduler tcp://host:port``; the workers must see the same file paths). A session
whose extraction raises, whose worker process dies or whose video breaks in the middle becomes a
:class:`SessionFailure` naming the session and the frame; the other sessions finish. Each local
worker process runs one session at a time in its own one-process pool, so a worker that dies
takes down only its own session (a new worker takes its place).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from mouseface.errors import InputError
from mouseface.io.config import ProjectConfig
from mouseface.pipeline.session import SessionFeatures, SessionInputs, extract_session

__all__ = [
    "SessionFailure",
    "SessionProgress",
    "connect_scheduler",
    "extract_sessions",
    "decode_failures",
]

SessionProgress = Callable[[str, int], None]
"""``progress(session_id, frames)``: ``frames`` more frames of that session are done."""

Extract = Callable[..., SessionFeatures]
"""``extract(s, cfg, out, *, resume, progress) -> SessionFeatures``, e.g.
:func:`~mouseface.pipeline.session.extract_session` (must be picklable for worker processes)."""


@dataclass(frozen=True)
class SessionFailure:
    """One session that did not (fully) make it through feature extraction.

    Attributes
    ----------
    session : str
        Session id.
    frame : int or None
        Frames of the session done when it failed (the failure happened while frame ``frame``
        and those after it were being processed); None when unknown (dask worker lost).
    kind : str
        ``"input"`` (bad input found while reading, an InputError), ``"error"`` (any other
        exception, e.g. OSError ENOSPC while writing), ``"worker"`` (the worker process died or
        was lost) or ``"decode"`` (the video broke at ``frame``; the frames before it are used).
    message : str
        What happened, one line.
    kept : bool
        The session is still used (``"decode"``: the frames before the break); otherwise it is
        left out of the project steps (prototypes, strength, trials, decoding) and its files
        from any earlier run are left as they were.
    detail : str or None
        Traceback of an unexpected exception (``"error"``), for a bug report.
    """

    session: str
    frame: int | None
    kind: str
    message: str
    kept: bool = False
    detail: str | None = None

    def __str__(self) -> str:
        where = f" at frame {self.frame}" if self.frame is not None else ""
        what = (
            "the frames before it are used"
            if self.kept
            else "left out of prototypes, strength, trials and decoding"
        )
        label = _KINDS.get(self.kind, self.kind)
        return f"session {self.session} failed{where} ({label}): {self.message} [{what}]"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (provenance)."""
        return asdict(self)


_KINDS = {
    "input": "bad input",
    "error": "error",
    "worker": "worker died",
    "decode": "video broken",
}


class _QueueProgress:
    """Picklable progress callback of a worker process: puts ``(session, frames)`` on a queue."""

    def __init__(self, q: Any, session: str) -> None:
        self.q = q
        self.session = session

    def __call__(self, frames: int) -> None:
        self.q.put((self.session, frames))


def _guarded(
    extract: Extract,
    s: SessionInputs,
    cfg: ProjectConfig,
    out: Path,
    resume: bool,
    progress: Callable[[int], None] | None,
) -> SessionFeatures | SessionFailure:
    """``extract(s, ...)``, with an exception turned into a :class:`SessionFailure`."""
    done = 0

    def counted(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(n)

    try:
        return extract(s, cfg, out, resume=resume, progress=counted)
    except InputError as exc:
        return SessionFailure(session=s.id, frame=done, kind="input", message=str(exc))
    except Exception as exc:
        return SessionFailure(
            session=s.id,
            frame=done,
            kind="error",
            message=f"{type(exc).__name__}: {exc}",
            detail=traceback.format_exc(),
        )


def decode_failures(features: Sequence[SessionFeatures]) -> list[SessionFailure]:
    """A ``"decode"`` failure (kept) for every session whose video broke in the middle."""
    return [
        SessionFailure(
            session=f.id,
            frame=int(f.decode_error["frame"]),
            kind="decode",
            message=f"decoding {f.inputs.cfg.video} stopped ({f.decode_error['message']})",
            kept=True,
        )
        for f in features
        if f.decode_error
    ]


def connect_scheduler(address: str, *, timeout: float = 5.0) -> Any:
    """A dask.distributed ``Client`` of the scheduler at ``address``.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://10.0.0.5:8786``.
    timeout : float
        Seconds to wait for the scheduler to answer.

    Returns
    -------
    distributed.Client
        Close it when done (it is a context manager).

    Raises
    ------
    InputError
        dask.distributed is not installed, or no scheduler answered within ``timeout``.
    """
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise InputError(
            "--scheduler needs dask.distributed: pip install 'mouseface[dist]'"
        ) from exc
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            f"--scheduler {address}: no dask scheduler answered within {timeout:g} s "
            f"({type(exc).__name__}: {exc}); start one (`dask scheduler`, then `dask worker "
            "ADDRESS` on each machine) and pass the address it prints, or run without "
            "--scheduler"
        ) from None


def dashboard_link(client: Any) -> str | None:
    """The dask dashboard address of ``client``'s scheduler, or None if it has none."""
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        return str(client.dashboard_link)
    except (KeyError, AttributeError, OSError):
        return None


def extract_sessions(
    sessions: Sequence[SessionInputs],
    cfg: ProjectConfig,
    out: Path,
    *,
    jobs: int = 1,
    resume: bool = False,
    client: Any = None,
    progress: SessionProgress | None = None,
    extract: Extract = extract_session,
) -> list[SessionFeatures | SessionFailure]:
    """Extract every session's features; a failing session does not stop the others.

    Parameters
    ----------
    sessions : sequence of SessionInputs
        Validated, registered and face-sized sessions.
    cfg : ProjectConfig
    out : Path
        Output folder.
    jobs : int
        Sessions at a time on local worker processes; 1 = in this process. Ignored with
        ``client``.
    resume : bool
        Reuse finished feature stores.
    client : distributed.Client, optional
        Run the sessions on this dask cluster (see :func:`connect_scheduler`).
    progress : callable, optional
        See :data:`SessionProgress`: per chunk of frames (on dask, through the scheduler's
        event log; a finished session is topped up to its frame count).
    extract : callable
        The per-session function (:data:`Extract`), default
        :func:`~mouseface.pipeline.session.extract_session`.

    Returns
    -------
    list of SessionFeatures or SessionFailure
        One per session, in the order of ``sessions``.
    """
    report = progress or (lambda sid, n: None)
    if client is not None:
        return _on_dask(sessions, cfg, out, resume, client, report, extract)
    if jobs <= 1:
        return [
            _guarded(extract, s, cfg, out, resume, lambda n, sid=s.id: report(sid, n))
            for s in sessions
        ]
    return _on_processes(sessions, cfg, out, resume, jobs, report, extract)


def _refrozen(res: SessionFeatures | SessionFailure) -> SessionFeatures | SessionFailure:
    # unpickled arrays are writable again; replace() runs __post_init__, which freezes them
    return replace(res) if isinstance(res, SessionFeatures) else res


def _on_processes(
    sessions: Sequence[SessionInputs],
    cfg: ProjectConfig,
    out: Path,
    resume: bool,
    jobs: int,
    report: SessionProgress,
    extract: Extract,
) -> list[SessionFeatures | SessionFailure]:
    ctx = mp.get_context("spawn")
    results: list[SessionFeatures | SessionFailure | None] = [None] * len(sessions)
    done = [0] * len(sessions)
    index = {s.id: i for i, s in enumerate(sessions)}
    todo = list(range(len(sessions)))[::-1]
    running: dict[Future, tuple[int, ProcessPoolExecutor]] = {}
    idle: list[ProcessPoolExecutor] = []
    with ctx.Manager() as manager:
        q = manager.Queue()

        def drain() -> None:
            while True:
                try:
                    sid, n = q.get_nowait()
                except queue_mod.Empty:
                    return
                done[index[sid]] += n
                report(sid, n)

        try:
            while todo or running:
                while todo and len(running) < jobs:
                    i = todo.pop()
                    s = sessions[i]
                    lane = idle.pop() if idle else ProcessPoolExecutor(1, mp_context=ctx)
                    fut = lane.submit(
                        _guarded, extract, s, cfg, out, resume, _QueueProgress(q, s.id)
                    )
                    running[fut] = (i, lane)
                finished, _ = wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
                drain()
                for fut in finished:
                    i, lane = running.pop(fut)
                    try:
                        results[i] = _refrozen(fut.result())
                        idle.append(lane)
                    except BrokenProcessPool:
                        lane.shutdown(wait=False, cancel_futures=True)
                        results[i] = SessionFailure(
                            session=sessions[i].id,
                            frame=done[i],
                            kind="worker",
                            message="its worker process died (killed, out of memory or a crash "
                            "in native code); the other sessions went on",
                        )
                    except Exception as exc:  # e.g. a result that cannot be sent back
                        idle.append(lane)
                        results[i] = SessionFailure(
                            session=sessions[i].id,
                            frame=done[i],
                            kind="error",
                            message=f"{type(exc).__name__}: {exc}",
                            detail=traceback.format_exc(),
                        )
        finally:
            for lane in idle + [lane for _, lane in running.values()]:
                lane.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]


class _DaskProgress:
    """Picklable progress callback on a dask worker: logs ``(session, frames)`` events on a topic
    the client subscribes to."""

    def __init__(self, topic: str, session: str) -> None:
        self.topic = topic
        self.session = session

    def __call__(self, frames: int) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, [self.session, int(frames)])


def _on_dask(
    sessions: Sequence[SessionInputs],
    cfg: ProjectConfig,
    out: Path,
    resume: bool,
    client: Any,
    report: SessionProgress,
    extract: Extract,
) -> list[SessionFeatures | SessionFailure]:
    from dask.distributed import as_completed

    topic = f"mouseface-progress-{uuid.uuid4().hex}"
    events: queue_mod.SimpleQueue = queue_mod.SimpleQueue()
    client.subscribe_topic(topic, lambda event: events.put(event[1]))
    index = {s.id: i for i, s in enumerate(sessions)}
    done = [0] * len(sessions)
    finished: set[str] = set()

    def drain() -> None:
        while not events.empty():
            sid, n = events.get()
            if sid not in finished:  # events can arrive after their session's result
                done[index[sid]] += n
                report(sid, n)

    futures = [
        client.submit(
            _guarded, extract, s, cfg, out, resume, _DaskProgress(topic, s.id), pure=False
        )
        for s in sessions
    ]
    by_key = {f.key: i for i, f in enumerate(futures)}
    results: list[SessionFeatures | SessionFailure | None] = [None] * len(sessions)
    pending = as_completed(futures, loop=client.loop)
    try:
        while not pending.is_empty():
            batch = pending.next_batch(block=False)
            if not batch:
                time.sleep(0.2)
            drain()
            for fut in batch:
                i = by_key[fut.key]
                s = sessions[i]
                try:
                    results[i] = _refrozen(fut.result())
                except Exception as exc:  # KilledWorker, lost connection, unpicklable result
                    results[i] = SessionFailure(
                        session=s.id,
                        frame=done[i] if done[i] else None,
                        kind="worker",
                        message="the dask worker running it was lost or failed "
                        f"({type(exc).__name__}: {exc})",
                    )
                finished.add(s.id)
                if isinstance(results[i], SessionFeatures) and len(results[i].times) > done[i]:
                    report(s.id, len(results[i].times) - done[i])  # events still on their way
    finally:
        client.unsubscribe_topic(topic)
    return results  # type: ignore[return-value]
