"""Shared helpers of the meaning, valence and calibration analyses (private).

Loading trial windows and HOG rows of a session from an output folder, the session's neutral
prototype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mouseface.analyses.context import Context
from mouseface.expression.prototypes import session_neutral
from mouseface.expression.trials import good_or_all, window_mask

__all__ = [
    "SessionWindows",
    "session_windows",
    "state_label",
]


def state_label(value: object) -> str:
    """A trial's state as a string (``"none"`` when missing)."""
    return value if isinstance(value, str) and value else "none"


@dataclass
class SessionWindows:
    """One session's trials, per-frame table, window masks, good frames and neutral prototype.

    Attributes
    ----------
    session : str
    animal : str
    trials : DataFrame
        The session's rows of ``trials.parquet`` (index reset), with a ``cond`` column (state).
    frames : DataFrame
        ``frames.parquet``.
    baseline, response : list of ndarray of int
        Frame indices of each trial's windows (good frames where the window has any).
    neutral : ndarray of float32, shape (d,)
        Mean HOG of the session's good baseline frames.
    """

    session: str
    animal: str
    trials: pd.DataFrame
    frames: pd.DataFrame
    baseline: list[np.ndarray]
    response: list[np.ndarray]
    neutral: np.ndarray | None = None


def _window_rows(times: np.ndarray, good: np.ndarray, onset: float, win) -> np.ndarray:
    return good_or_all(window_mask(times, onset, tuple(win)), good)


def session_windows(ctx: Context, session: str, *, neutral: bool = True) -> SessionWindows:
    """Trial windows of a session and (optionally) its neutral prototype from baseline HOG."""
    frames = ctx.frames(session)
    times = frames["time"].to_numpy()
    good = frames["good"].to_numpy() if "good" in frames else np.ones(len(frames), bool)
    trials = ctx.trials[ctx.trials["session"] == session].reset_index(drop=True).copy()
    trials["cond"] = [state_label(s) for s in trials.get("state", [None] * len(trials))]
    base = [_window_rows(times, good, o, ctx.windows["baseline"]) for o in trials["onset"]]
    resp = [_window_rows(times, good, o, ctx.windows["response"]) for o in trials["onset"]]
    sw = SessionWindows(session, ctx.session_animal(session), trials, frames, base, resp)
    if neutral:
        used = np.zeros(len(frames), dtype=bool)
        for rows in base:
            used[rows] = True
        sw.neutral = session_neutral(ctx.hog_array(session), used)
    return sw
