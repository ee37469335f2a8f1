"""Emotion prototypes per session, per animal and pooled from a FrameSet (private).

An emotion prototype is the mean HOG of the ``n`` stimulus-window frames of that emotion least
correlated with their session's neutral prototype (highest ``change``; Dolensek et al. 2020),
among the frames without a quality flag. Two representations:

- ``raw``: the mean HOG itself (the paper's prototype; neutral = mean of baseline frames);
- ``difference``: the mean of ``HOG - neutral prototype of the frame's session`` over the same
  frames: the change the emotion makes to the face, free of the animal's identity.

Levels: ``session`` (frames of one session), ``animal`` (the animal's sessions together, each
frame's change relative to its own session) and ``pooled`` (the mean of the animals'
prototypes, equal weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.expression.frameset import NEUTRAL, FrameSet

__all__ = ["Prototype", "build_prototypes", "prototype_table"]


@dataclass
class Prototype:
    """One prototype.

    Attributes
    ----------
    level : str
        ``session``, ``animal`` or ``pooled``.
    session, animal : str or None
        Its session / animal (None where the level pools over them).
    emotion : str
    raw, difference : ndarray of float64, shape (d,)
        The two representations (see module docstring).
    n_frames : int
        Frames averaged (for neutral: the baseline frames).
    """

    level: str
    session: str | None
    animal: str | None
    emotion: str
    raw: np.ndarray
    difference: np.ndarray
    n_frames: int


def _top(change: np.ndarray, n: int) -> np.ndarray:
    c = np.where(np.isfinite(change), change, -np.inf)
    return np.argsort(-c, kind="stable")[: min(n, len(c))]


def build_prototypes(fs: FrameSet, *, n_frames: int = 10) -> list[Prototype]:
    """Session, animal and pooled prototypes of every emotion, and the neutral ones.

    Parameters
    ----------
    fs : FrameSet
        Unflagged trial-window frames (see :func:`~mouseface.expression.frameset.build_frame_set`).
    n_frames : int
        Frames averaged per prototype (the lab's code uses 10).

    Returns
    -------
    list of Prototype
        Neutral prototypes have ``difference`` = 0 by construction and ``n_frames`` = the
        baseline frames of the session (or the animal's sessions).
    """
    if n_frames < 1:
        raise InputError(f"prototype frames must be >= 1, got {n_frames}")
    rows = fs.rows
    resp = rows[(rows["window"] == "response") & (rows["label"] != NEUTRAL)]
    if resp.empty:
        raise InputError("no stimulus-window frame without a quality flag: no emotion prototype")
    out: list[Prototype] = []
    zero = np.zeros(fs.X.shape[1], dtype=np.float64)
    n_base = rows[rows["window"] == "baseline"].groupby("session").size()
    for (sid, animal), _ in rows.groupby(["session", "animal"], sort=True):
        out.append(
            Prototype(
                "session",
                sid,
                animal,
                NEUTRAL,
                fs.neutral[sid].astype(np.float64),
                zero,
                int(n_base.get(sid, 0)),
            )
        )
    for (sid, animal, emo), g in resp.groupby(["session", "animal", "label"], sort=True):
        idx = g.index.to_numpy()[_top(g["change"].to_numpy(), n_frames)]
        d = fs.X[idx].astype(np.float64)
        out.append(
            Prototype(
                "session",
                sid,
                animal,
                emo,
                (d + fs.neutral[sid]).mean(axis=0),
                d.mean(axis=0),
                len(idx),
            )
        )
    animal_neutral = {}
    for animal, g in rows.groupby("animal", sort=True):
        sids = sorted(g["session"].unique())
        animal_neutral[animal] = np.mean([fs.neutral[s] for s in sids], axis=0).astype(np.float64)
        out.append(
            Prototype(
                "animal",
                None,
                animal,
                NEUTRAL,
                animal_neutral[animal],
                zero,
                int(sum(n_base.get(s, 0) for s in sids)),
            )
        )
    for (animal, emo), g in resp.groupby(["animal", "label"], sort=True):
        idx = g.index.to_numpy()[_top(g["change"].to_numpy(), n_frames)]
        d = fs.X[idx].astype(np.float64)
        neut = np.stack([fs.neutral[s] for s in rows.loc[idx, "session"]]).astype(np.float64)
        out.append(
            Prototype(
                "animal", None, animal, emo, (d + neut).mean(axis=0), d.mean(axis=0), len(idx)
            )
        )
    per_animal = [p for p in out if p.level == "animal"]
    for emo in sorted({p.emotion for p in per_animal}):
        ps = [p for p in per_animal if p.emotion == emo]
        out.append(
            Prototype(
                "pooled",
                None,
                None,
                emo,
                np.mean([p.raw for p in ps], axis=0),
                np.mean([p.difference for p in ps], axis=0),
                int(sum(p.n_frames for p in ps)),
            )
        )
    return out


def prototype_table(protos: list[Prototype]) -> pd.DataFrame:
    """Tidy table of the prototypes: one row per prototype, representation and feature.

    Columns: level, session, animal, emotion, representation (``raw`` / ``difference``),
    n_frames, feature (int), value (float32).
    """
    parts = []
    for p in protos:
        for rep in ("raw", "difference"):
            v = np.asarray(getattr(p, rep), dtype=np.float32)
            parts.append(
                pd.DataFrame(
                    {
                        "level": p.level,
                        "session": p.session,
                        "animal": p.animal,
                        "emotion": p.emotion,
                        "representation": rep,
                        "n_frames": p.n_frames,
                        "feature": np.arange(len(v), dtype=np.int32),
                        "value": v,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)
