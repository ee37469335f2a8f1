"""Frame-level data sets for decoding and prototypes (private).

Per session: quality flags (:mod:`mouseface.features.quality`), the neutral prototype
recomputed from the good baseline frames, each frame's ``change`` (1 - Pearson r with it) and
the robust z-score of that change against the session's baseline frames; then the rows of the
trial windows: response-window frames labelled with their trial's emotion, baseline frames
labelled ``neutral`` (a frame in two windows with different labels is dropped), features
``HOG - neutral prototype of the session``.

With ``crossfit=True`` the baseline is cross-fitted per trial: a trial's frames (its baseline
and response windows) get their ``change``, ``change_z`` and features from a neutral prototype
and a z-score reference built from the OTHER trials' baseline frames of the session, so a
scored neutral frame never contributed to the prototype or the gate it is judged by. Frames
outside every trial window use the session's whole baseline.

The *changed* rule (``change_z > threshold``) selects the stimulus-window frames in which the
face has moved away from its baseline: it uses no labels and no ground truth, only the
session's own baseline frames.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.expression.prototypes import neutral_prototype, pearson_rows
from mouseface.features.quality import quality_flags, robust_z

__all__ = [
    "NEUTRAL",
    "SessionInput",
    "SessionNeutral",
    "FrameSet",
    "build_frame_set",
    "cap_per_group",
]

NEUTRAL = "neutral"

QUALITY_COLUMNS = ("transient", "occlusion", "motion", "bad_image")


@dataclass
class SessionInput:
    """What :func:`build_frame_set` needs of one session.

    Attributes
    ----------
    session, animal : str
    frames : DataFrame
        ``frames.parquet``: ``time`` (s), optional ``good`` and ``motion_outlier`` (bool).
    trials : DataFrame
        This session's trials: ``trial``, ``emotion``, ``onset`` (s), optional ``valid``.
    hog : callable
        ``hog()`` -> every frame's HOG, shape (n_frames, d), in frame order: an ndarray or a
        lazy array (e.g. the session's ``features.zarr`` ``hog``), which is then read in blocks
        and rows, never whole (hour-long sessions).
    """

    session: str
    animal: str
    frames: pd.DataFrame
    trials: pd.DataFrame
    hog: Callable[[], np.ndarray]


_BLOCK = 4096  # frames read at a time from a lazy HOG array


def take_rows(hog, index: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Rows ``index`` (sorted) of an ndarray or a zarr array, as an ndarray."""
    index = np.asarray(index, dtype=np.int64)
    if isinstance(hog, np.ndarray):
        return hog[index]
    if len(index) == 0:
        return np.zeros((0, hog.shape[1]), dtype=np.float32)
    return np.asarray(hog.get_orthogonal_selection((index, slice(None))))


def _change(hog, neutral: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """``1 - Pearson r`` of every frame with ``neutral``, read in blocks, float64 (n,)."""
    n = hog.shape[0]
    out = np.empty(n, dtype=np.float64)
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        out[lo:hi] = 1.0 - pearson_rows(np.asarray(hog[lo:hi]), neutral)
    return out


@dataclass(frozen=True)
class SessionNeutral:
    """Every frame's neutral reference in one session (cross-fitted or not).

    Attributes
    ----------
    neutrals : ndarray of float32, shape (m, d)
        Neutral prototypes; row 0 is the session's (all good baseline frames).
    which : ndarray of int64, shape (n_frames,)
        Row of ``neutrals`` each frame is compared with.
    change : ndarray of float64, shape (n_frames,)
        ``1 - Pearson r`` of the frame with its neutral prototype.
    change_z : ndarray of float64, shape (n_frames,)
        Robust z-score of ``change`` against the baseline frames that built that prototype.
    """

    neutrals: np.ndarray
    which: np.ndarray
    change: np.ndarray
    change_z: np.ndarray


@dataclass
class FrameSet:
    """Rows of the trial windows of all sessions.

    Attributes
    ----------
    rows : DataFrame
        One row per frame kept: session, animal, frame, time, trial, cluster (session:trial),
        window (``baseline`` / ``response``), label, t_rel (s from the trial's onset),
        change, change_z, flagged and the quality columns.
    X : ndarray of float32, shape (n, d)
        HOG minus the session's neutral prototype.
    neutral : dict
        session -> neutral prototype (d,).
    quality : DataFrame
        Per session and flag: frames flagged, of all frames (for the quality table).
    frames : dict
        session -> :class:`SessionNeutral` of every frame (to compute features of any frame).
    columns : dict
        Feature set name -> its columns of ``X`` (when the sessions' features are a stack of
        named sets, :class:`~mouseface.io.feature_store.FeatureMatrix`; else empty).
    """

    rows: pd.DataFrame
    X: np.ndarray
    neutral: dict[str, np.ndarray] = field(default_factory=dict)
    quality: pd.DataFrame = field(default_factory=pd.DataFrame)
    frames: dict[str, SessionNeutral] = field(default_factory=dict)
    columns: dict[str, slice] = field(default_factory=dict)


def _fps(times: np.ndarray) -> float:
    d = np.diff(np.asarray(times, dtype=np.float64))
    d = d[np.isfinite(d) & (d > 0)]
    return float(1.0 / np.median(d)) if d.size else 20.0


def _labels(
    times: np.ndarray, trials: pd.DataFrame, windows: dict[str, tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(times)
    label = np.full(n, None, dtype=object)
    window = np.full(n, None, dtype=object)
    trial = np.full(n, -1, dtype=np.int64)
    t_rel = np.full(n, np.nan)
    conflict = np.zeros(n, dtype=bool)
    for _, tr in trials.iterrows():
        onset = float(tr["onset"])
        for wname, lab in (("baseline", NEUTRAL), ("response", str(tr["emotion"]))):
            a, b = windows[wname]
            m = (times >= onset + a) & (times < onset + b)
            clash = m & (label != None) & (label != lab)  # noqa: E711
            conflict |= clash
            new = m & (label == None)  # noqa: E711
            label[new], window[new], trial[new] = lab, wname, int(tr["trial"])
            t_rel[new] = times[new] - onset
    label[conflict] = None
    return label, window, trial, t_rel


def build_frame_set(
    sessions: Sequence[SessionInput],
    *,
    windows: dict[str, tuple[float, float]],
    exclude_flagged: bool = True,
    valid_only: bool = True,
    crossfit: bool = False,
) -> FrameSet:
    """Collect the labelled frames of every session (see module docstring).

    Parameters
    ----------
    sessions : sequence of SessionInput
    windows : dict
        ``{"baseline": (a, b), "response": (a, b)}``, seconds from each trial's onset.
    exclude_flagged : bool
        Drop frames with a quality flag (and build the neutral prototype without them).
    valid_only : bool
        Use only trials whose ``valid`` column is true (when the column exists).
    crossfit : bool
        Cross-fit the baseline per trial (see module docstring).

    Returns
    -------
    FrameSet

    Raises
    ------
    InputError
        No session has a trial, or a session has no usable baseline frame.
    """
    rows, feats, neutral, quality, per_frame, columns = [], [], {}, [], {}, None
    for s in sessions:
        trials = s.trials
        if valid_only and "valid" in trials:
            trials = trials[trials["valid"].astype(bool)]
        if trials.empty:
            continue
        times = s.frames["time"].to_numpy(np.float64)
        hog = s.hog()
        if hog.shape[0] != len(times):
            raise InputError(
                f"session {s.session}: features.zarr has {hog.shape[0]} HOG rows but "
                f"frames.parquet {len(times)} frames; re-run the pipeline on this folder"
            )
        layout = hog.slices() if hasattr(hog, "slices") else {}
        if columns is None:
            columns = layout
        elif layout != columns:
            raise InputError(
                f"session {s.session}: its features are {list(layout) or 'one unnamed set'} "
                f"({hog.shape[1]} columns), other sessions' {list(columns) or 'one unnamed set'}; "
                "run every session of a project with the same features"
            )
        good = s.frames["good"].to_numpy(bool) if "good" in s.frames else None
        moving = s.frames["motion_outlier"].to_numpy(bool) if "motion_outlier" in s.frames else None
        q = quality_flags(hog, fps=_fps(times), good=good, motion_outlier=moving)
        usable = ~q["flagged"].to_numpy() if exclude_flagged else np.ones(len(times), dtype=bool)
        quality += [
            {
                "session": s.session,
                "animal": s.animal,
                "flag": c,
                "n_frames": len(q),
                "n_flagged": int(q[c].sum()),
                "fraction": float(q[c].mean()) if len(q) else np.nan,
            }
            for c in (*QUALITY_COLUMNS, "flagged")
        ]
        label, window, trial, t_rel = _labels(times, trials, windows)
        base = (window == "baseline") & (label == NEUTRAL)
        if not (base & usable).any():
            raise InputError(
                f"session {s.session}: no baseline frame without a quality flag to build the "
                "neutral prototype from; check the baseline window or set "
                "exclude_flagged: false"
            )
        nprot = neutral_prototype(take_rows(hog, np.flatnonzero(base & usable)))
        neutral[s.session] = nprot
        change = _change(hog, nprot)
        z = robust_z(change, change[base & usable])
        which = np.zeros(len(times), dtype=np.int64)
        neutrals = [nprot]
        if crossfit:
            _crossfit(hog, base & usable, trial, label, change, z, which, neutrals)
        per_frame[s.session] = SessionNeutral(np.stack(neutrals), which, change, z)
        keep = np.flatnonzero((label != None) & usable)  # noqa: E711
        df = pd.DataFrame(
            {
                "session": s.session,
                "animal": s.animal,
                "frame": keep,
                "time": times[keep],
                "trial": trial[keep],
                "cluster": [f"{s.session}:{t}" for t in trial[keep]],
                "window": window[keep].astype(str),
                "label": label[keep].astype(str),
                "t_rel": t_rel[keep],
                "change": change[keep],
                "change_z": z[keep],
            }
        )
        for c in (*QUALITY_COLUMNS, "flagged"):
            df[c] = q[c].to_numpy()[keep]
        rows.append(df)
        feats.append(
            (take_rows(hog, keep) - per_frame[s.session].neutrals[which[keep]]).astype(np.float32)
        )
    if not rows:
        raise InputError(
            "no trials to analyse"
            + (" (no valid trial)" if valid_only else "")
            + "; check the events tables and the trial windows"
        )
    return FrameSet(
        rows=pd.concat(rows, ignore_index=True),
        X=np.concatenate(feats),
        neutral=neutral,
        quality=pd.DataFrame(quality),
        frames=per_frame,
        columns=columns or {},
    )


def _crossfit(
    hog,  # noqa: ANN001
    base: np.ndarray,
    trial: np.ndarray,
    label: np.ndarray,
    change: np.ndarray,
    z: np.ndarray,
    which: np.ndarray,
    neutrals: list[np.ndarray],
) -> None:
    """Per trial, neutral prototype and z reference from the other trials' baseline frames.

    Updates ``change``, ``z`` and ``which`` in place for the frames of each trial's windows and
    appends the trials' prototypes to ``neutrals``. A session with one trial keeps its own
    baseline (there is no other).
    """
    idx = np.flatnonzero(base)
    B = take_rows(hog, idx).astype(np.float64)
    total = B.sum(axis=0)
    owner = trial[idx]
    windows = label != None  # noqa: E711
    for k in np.unique(trial[windows]):
        others = owner != k
        if not others.any():
            continue
        nk = ((total - B[~others].sum(axis=0)) / others.sum()).astype(np.float32)
        ref = 1.0 - pearson_rows(B[others], nk)
        rows = np.flatnonzero(windows & (trial == k))
        ck = 1.0 - pearson_rows(take_rows(hog, rows).astype(np.float64), nk)
        change[rows] = ck
        z[rows] = robust_z(ck, ref)
        which[rows] = len(neutrals)
        neutrals.append(nk)


def cap_per_group(keys: np.ndarray, *, max_per_group: int, seed: int = 0) -> np.ndarray:
    """Sorted indices keeping at most ``max_per_group`` rows of each key (random, reproducible).

    Parameters
    ----------
    keys : ndarray, shape (n,)
    max_per_group : int
        >= 1.
    seed : int

    Returns
    -------
    ndarray of int64
    """
    if max_per_group < 1:
        raise InputError(f"max frames per group must be >= 1, got {max_per_group}")
    rng = np.random.default_rng(seed)
    keys = np.asarray(keys)
    keep = []
    for k in np.unique(keys):
        idx = np.flatnonzero(keys == k)
        if len(idx) > max_per_group:
            idx = rng.choice(idx, size=max_per_group, replace=False)
        keep.append(idx)
    return np.sort(np.concatenate(keep)).astype(np.int64) if keep else np.zeros(0, np.int64)


def inputs_from_context(ctx) -> list[SessionInput]:  # noqa: ANN001
    """:class:`SessionInput` of every session of an analysis context with trials.

    Parameters
    ----------
    ctx : mouseface.analyses.Context
        Lazy view of an output folder (duck-typed: ``sessions``, ``trials``, ``frames()``,
        ``hog()``, ``session_animal()``).
    """
    trials = ctx.trials
    out = []
    for sid in ctx.sessions:
        t = trials[trials["session"].astype(str) == str(sid)]
        if t.empty:
            continue
        out.append(
            SessionInput(
                session=str(sid),
                animal=str(ctx.session_animal(sid)),
                frames=ctx.frames(sid),
                trials=t,
                hog=lambda sid=sid: ctx.hog_array(sid),
            )
        )
    return out
