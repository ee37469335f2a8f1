"""Expression amplitude readout: projection of a frame's HOG change onto an emotion's direction.

Pearson r with a prototype (``strength``) is not linear in the amplitude of an expression: it
saturates, and it also moves when the face changes in a direction unrelated to the emotion. The
*amplitude* of a frame for emotion ``e`` is

    a = (h - n) . (p_e - n) / |p_e - n|^2

with ``h`` the frame's HOG, ``n`` its session's neutral prototype (mean HOG of the baseline
frames) and ``p_e`` the emotion's prototype: 0 on the neutral face, 1 on a face equal to the
prototype, proportional to small changes along the prototype's direction. On the synthetic
ground truth (``mouseface.synth``) it tracks the generator's amplitude with a power of 1.06 (pain)
to 1.11 (pleasure) and passes through 0 (R^2 through the origin 0.98 and 0.93 over trials).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from mouseface.errors import InputError
from mouseface.expression.trials import good_or_all, window_mean

__all__ = [
    "DIRECTIONS",
    "OutputSource",
    "projection",
    "baseline_frames",
    "good_frames",
    "session_amplitude",
    "session_neutral",
    "mean_change",
    "pooled_change",
    "trial_amplitudes",
]

_BLOCK = 4096  # HOG rows read at a time

#: Which prototype defines an emotion's direction: the pooled prototype (mean of the animals'
#: prototypes) or the animal's own prototype (pooled where the animal has none).
DIRECTIONS = ("pooled", "animal")


class OutputSource(Protocol):
    """What the readout needs from a run's output folder (``mouseface.analyses.Context``)."""

    @property
    def trials(self) -> pd.DataFrame: ...  # noqa: D102

    @property
    def prototypes(self) -> xr.Dataset: ...  # noqa: D102

    @property
    def windows(self) -> dict[str, tuple[float, float]]: ...  # noqa: D102

    def frames(self, session: str) -> pd.DataFrame: ...  # noqa: D102

    def hog(self, session: str, index: np.ndarray | None = None) -> np.ndarray: ...  # noqa: D102

    def session_animal(self, session: str) -> str: ...  # noqa: D102


def projection(hog: np.ndarray, neutral: np.ndarray, prototype: np.ndarray) -> np.ndarray:
    """Amplitude of each frame along ``prototype - neutral`` (0 = neutral, 1 = prototype).

    Parameters
    ----------
    hog : ndarray, shape (n, d)
        HOG rows.
    neutral : ndarray, shape (d,)
        Neutral prototype of the frames' session.
    prototype : ndarray, shape (d,) or (k, d)
        Emotion prototype(s).

    Returns
    -------
    ndarray of float64, shape (n,) or (n, k)
    """
    n = np.asarray(neutral, dtype=np.float64)
    P = np.atleast_2d(np.asarray(prototype, dtype=np.float64)) - n
    norm2 = (P * P).sum(axis=1)
    if np.any(~np.isfinite(norm2)) or np.any(norm2 <= 0):
        raise InputError(
            "an emotion prototype equals the neutral prototype (or is missing); its amplitude "
            "readout is undefined: check that the emotion has stimulus-window frames"
        )
    out = (np.asarray(hog, dtype=np.float64) - n) @ P.T / norm2
    return out[:, 0] if np.ndim(prototype) == 1 else out


def baseline_frames(
    times: np.ndarray, onsets: np.ndarray, window: tuple[float, float], good: np.ndarray
) -> np.ndarray:
    """Indices of the frames in any trial's baseline window (good ones, if there are any).

    This is how the pipeline builds a session's neutral prototype.
    """
    times = np.asarray(times, dtype=np.float64)
    mask = np.zeros(times.shape, dtype=bool)
    for o in np.asarray(onsets, dtype=np.float64):
        mask |= (times >= o + window[0]) & (times < o + window[1])
    idx = good_or_all(mask, good)
    if not idx.size:
        raise InputError("no frame lies in a baseline window of this session")
    return idx


def good_frames(frames: pd.DataFrame) -> np.ndarray:
    """The ``good`` column of a frames table (all True when absent), bool (n,)."""
    if "good" in frames:
        return frames["good"].to_numpy(dtype=bool)
    return np.ones(len(frames), dtype=bool)


def _direction(src: OutputSource, animal: str, emotions: Sequence[str], how: str) -> np.ndarray:
    ds = src.prototypes
    known = [str(e) for e in ds["emotion"].values]
    missing = [e for e in emotions if e not in known]
    if missing:
        raise InputError(f"prototypes.nc has no prototype for {missing}; known: {known}")
    if how not in DIRECTIONS:
        raise InputError(f"direction must be one of {list(DIRECTIONS)}, got {how!r}")
    P = np.stack([ds["prototype"].sel(emotion=e).values for e in emotions]).astype(np.float64)
    if how == "animal" and animal in [str(a) for a in ds["animal"].values]:
        A = np.stack(
            [ds["animal_prototype"].sel(animal=animal, emotion=e).values for e in emotions]
        )
        ok = np.isfinite(A).all(axis=1)
        P[ok] = A[ok]
    return P


def session_amplitude(
    src: OutputSource,
    session: str,
    emotions: Sequence[str],
    *,
    index: np.ndarray | None = None,
    direction: str = "pooled",
    vectors: np.ndarray | None = None,
) -> np.ndarray:
    """Per-frame amplitude readout of one session for each emotion.

    Parameters
    ----------
    src : OutputSource
        The run's outputs (an :class:`mouseface.analyses.Context`).
    session : str
        Session id.
    emotions : sequence of str
        Emotions with a prototype in ``prototypes.nc``.
    index : ndarray of int, optional
        Sorted frame indices to compute (all frames when None).
    direction : {"pooled", "animal"}
        Prototype whose direction from the session's neutral face is measured.
    vectors : ndarray, shape (len(emotions), d), optional
        Directions given as HOG changes from the neutral face (e.g. from :func:`mean_change`);
        they replace the prototypes (``direction`` is then ignored).

    Returns
    -------
    ndarray of float64, shape (n_frames or len(index), len(emotions))
    """
    neutral = session_neutral(src, session)
    if vectors is None:
        P = _direction(src, src.session_animal(session), emotions, direction)
    else:
        P = neutral + np.atleast_2d(np.asarray(vectors, dtype=np.float64))
        if P.shape[0] != len(emotions):
            raise InputError(f"{P.shape[0]} direction vectors for {len(emotions)} emotions")
    if index is None:
        index = np.arange(len(src.frames(session)))
    index = np.asarray(index, dtype=np.int64)
    out = np.empty((len(index), P.shape[0]), dtype=np.float64)
    for lo in range(0, len(index), _BLOCK):  # rows read a block at a time (hour-long sessions)
        rows = index[lo : lo + _BLOCK]
        out[lo : lo + len(rows)] = projection(src.hog(session, rows), neutral, P)
    return out


def session_neutral(src: OutputSource, session: str) -> np.ndarray:
    """Neutral prototype of a session: mean HOG of its baseline-window frames (good ones).

    Returns
    -------
    ndarray of float64, shape (d,)
    """
    frames = src.frames(session)
    trials = src.trials[src.trials["session"] == session]
    if trials.empty:
        raise InputError(f"session {session} has no trials in trials.parquet")
    base = baseline_frames(
        frames["time"].to_numpy(),
        trials["onset"].to_numpy(),
        src.windows["baseline"],
        good_frames(frames),
    )
    return src.hog(session, base).mean(axis=0, dtype=np.float64)


def mean_change(
    src: OutputSource, trials: pd.DataFrame, windows: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Mean HOG change from the neutral face per animal and emotion over a window of each trial.

    For every trial the good frames in ``[onset + start, onset + end)`` are averaged, minus the
    session's neutral prototype; trials are averaged per animal (see :func:`pooled_change` for
    the mean over animals, each animal weighing the same).

    Parameters
    ----------
    src : OutputSource
    trials : DataFrame
        Rows of ``trials.parquet`` (session, onset, emotion).
    windows : ndarray, shape (len(trials), 2)
        Each trial's ``(start, end)``, seconds after its onset.

    Returns
    -------
    dict
        ``{animal: {emotion: ndarray (d,)}}`` for the emotions with at least one frame in a
        window.
    """
    windows = np.asarray(windows, dtype=np.float64).reshape(len(trials), 2)
    sums: dict[str, dict[str, list[np.ndarray]]] = {}
    t = trials.assign(_start=windows[:, 0], _end=windows[:, 1])
    for session, rows in t.groupby("session", sort=False):
        session = str(session)
        frames = src.frames(session)
        times = frames["time"].to_numpy(dtype=np.float64)
        good = good_frames(frames)
        neutral = session_neutral(src, session)
        animal = src.session_animal(session)
        for onset, emotion, a, b in zip(
            rows["onset"], rows["emotion"].astype(str), rows["_start"], rows["_end"], strict=True
        ):
            mask = (times >= onset + a) & (times < onset + b)
            idx = good_or_all(mask, good)
            if idx.size:
                change = src.hog(session, idx).mean(axis=0, dtype=np.float64) - neutral
                sums.setdefault(emotion, {}).setdefault(animal, []).append(change)
    out: dict[str, dict[str, np.ndarray]] = {}
    for e, per_animal in sums.items():
        for animal, changes in per_animal.items():
            out.setdefault(animal, {})[e] = np.mean(changes, axis=0)
    return out


def pooled_change(per_animal: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Mean over animals of :func:`mean_change`'s per-animal changes, per emotion."""
    emotions = sorted({e for changes in per_animal.values() for e in changes})
    return {e: np.mean([c[e] for c in per_animal.values() if e in c], axis=0) for e in emotions}


def trial_amplitudes(
    src: OutputSource, trials: pd.DataFrame, *, direction: str = "pooled"
) -> np.ndarray:
    """Amplitude readout of each trial along its own emotion's direction.

    Like ``response`` and ``strength_<emotion>`` in ``trials.parquet``: mean over the
    response window minus mean over the baseline window (good frames where there are any).

    Parameters
    ----------
    src : OutputSource
    trials : DataFrame
        Rows of ``trials.parquet`` (session, onset, emotion).
    direction : {"pooled", "animal"}

    Returns
    -------
    ndarray of float64, shape (len(trials),)
        NaN for a trial whose emotion has no prototype.
    """
    out = np.full(len(trials), np.nan)
    known = {str(e) for e in src.prototypes["emotion"].values} - {"neutral"}
    base_w, resp_w = src.windows["baseline"], src.windows["response"]
    pos = {k: i for i, k in enumerate(trials.index)}
    for session, rows in trials.groupby("session", sort=False):
        rows = rows[rows["emotion"].astype(str).isin(known)]
        if rows.empty:
            continue
        frames = src.frames(str(session))
        times = frames["time"].to_numpy(dtype=np.float64)
        good = good_frames(frames)
        masks = []
        need = np.zeros(len(times), dtype=bool)
        for o in rows["onset"].to_numpy(dtype=np.float64):
            b = (times >= o + base_w[0]) & (times < o + base_w[1])
            r = (times >= o + resp_w[0]) & (times < o + resp_w[1])
            masks.append((b, r))
            need |= b | r
        idx = np.flatnonzero(need)
        emotions = sorted(set(rows["emotion"].astype(str)))
        amp = np.full((len(times), len(emotions)), np.nan)
        amp[idx] = session_amplitude(src, str(session), emotions, index=idx, direction=direction)
        for (key, row), (b, r) in zip(rows.iterrows(), masks, strict=True):
            v = amp[:, emotions.index(str(row["emotion"]))]
            out[pos[key]] = window_mean(v, r, good) - window_mean(v, b, good)
    return out
