"""Project-wide pipeline stages: prototypes (and ``prototypes.nc``) and decoding.

See :mod:`mouseface.pipeline.run`, which orders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from mouseface.decoding.quick import decode_all, subsample_per_group
from mouseface.expression.prototypes import (
    Candidates,
    animal_prototypes,
    pooled_prototypes,
    similarity_matrix,
)
from mouseface.features.hog import hog_shape
from mouseface.io.config import ProjectConfig
from mouseface.io.feature_store import open_store
from mouseface.io.outputs import write_netcdf_atomic
from mouseface.pipeline.session import SessionNeutral

__all__ = ["Prototypes", "build_prototypes", "write_prototypes", "decoding_dataset"]

NEUTRAL = "neutral"


@dataclass(frozen=True)
class Prototypes:
    """The project's expression prototypes (stage 4: prototypes).

    Attributes
    ----------
    animal : mapping of (animal, emotion) to ndarray of float32, shape (d,)
        Each animal's emotion prototypes (neutral excluded).
    pooled : mapping of emotion to ndarray of float32, shape (d,)
        Mean of the animals' prototypes of each emotion, emotions sorted.
    neutral : mapping of animal to ndarray, shape (d,)
        Mean of the animal's sessions' neutral prototypes, animals in session order.
    """

    animal: Mapping[tuple[str, str], np.ndarray]
    pooled: Mapping[str, np.ndarray]
    neutral: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        for d in (self.animal, self.pooled, self.neutral):
            for v in d.values():
                v.setflags(write=False)

    @property
    def emotions(self) -> tuple[str, ...]:
        """Emotions with a prototype (the strength columns), in order."""
        return tuple(self.pooled)

    def for_animal(self, animal: str) -> np.ndarray:
        """Prototypes an animal is read out with: its own, or the pooled one where it has none.

        Returns
        -------
        ndarray of float32, shape (len(emotions), d)
        """
        return np.stack([self.animal.get((animal, e), self.pooled[e]) for e in self.pooled])


def build_prototypes(sessions: Sequence[SessionNeutral], cfg: ProjectConfig) -> Prototypes:
    """Stage 4: per-animal and pooled emotion prototypes from the response-window frames.

    Candidates are the response-window frames of each trial (good ones where there are any),
    per (animal, emotion); an animal's prototype is the mean of the ``cfg.prototype_frames``
    candidates least correlated with their session's neutral prototype.
    """
    cands = Candidates(keep=max(200, cfg.prototype_frames))
    neutral_by_animal: dict[str, list[np.ndarray]] = {}
    for s in sessions:
        for k, emo in enumerate(s.events["emotion"]):
            idx = s.good_rows(s.masks["response"][k])
            cands.add(s.animal, emo, s.hog_rows(idx), 1.0 - s.change[idx])
        neutral_by_animal.setdefault(s.animal, []).append(s.neutral)
    per_animal = animal_prototypes(cands, n=cfg.prototype_frames)
    return Prototypes(
        animal=per_animal,
        pooled=pooled_prototypes(per_animal),
        neutral={a: np.mean(v, axis=0) for a, v in neutral_by_animal.items()},
    )


def write_prototypes(
    protos: Prototypes, sessions: Sequence[SessionNeutral], cfg: ProjectConfig, out: Path
) -> Path:
    """Write ``prototypes.nc``: pooled and per-animal prototypes (neutral first), their
    similarity matrix and the first session's mean face. Returns the path."""
    names = [NEUTRAL, *protos.pooled]
    animals = sorted(protos.neutral)
    P = np.stack([np.mean(list(protos.neutral.values()), axis=0), *protos.pooled.values()])
    d = P.shape[1]
    A = np.full((len(animals), len(names), d), np.nan, dtype=np.float32)
    for i, a in enumerate(animals):
        A[i, 0] = protos.neutral[a]
        for j, e in enumerate(names[1:], start=1):
            if (a, e) in protos.animal:
                A[i, j] = protos.animal[(a, e)]
    first = sessions[0].features
    face = open_store(first.store)["mean_face"][:]
    h, w = first.face_size
    cy, cx, _, _, ori = hog_shape(
        (h, w),
        orientations=cfg.hog.orientations,
        pixels_per_cell=cfg.hog.pixels_per_cell,
        cells_per_block=cfg.hog.cells_per_block,
    )
    ds = xr.Dataset(
        {
            "prototype": (("emotion", "feature"), P.astype(np.float32)),
            "animal_prototype": (("animal", "emotion", "feature"), A),
            "similarity": (("emotion", "emotion2"), similarity_matrix(P)),
            "example_face": (("y", "x"), face.astype(np.float32)),
        },
        coords={"emotion": names, "emotion2": names, "animal": animals},
        attrs={
            "orientations": int(ori),
            "pixels_per_cell_y": int(cfg.hog.pixels_per_cell[0]),
            "pixels_per_cell_x": int(cfg.hog.pixels_per_cell[1]),
            "cells_per_block_y": int(cfg.hog.cells_per_block[0]),
            "cells_per_block_x": int(cfg.hog.cells_per_block[1]),
            "cells_y": int(cy),
            "cells_x": int(cx),
            "face_height": int(h),
            "face_width": int(w),
            "prototype_frames": int(cfg.prototype_frames),
            "description": "pooled prototype = mean of the animals' prototypes; an animal's "
            "emotion prototype = mean HOG of its stimulus-window frames least "
            "correlated with its session's neutral prototype",
        },
    )
    path = out / "prototypes.nc"
    write_netcdf_atomic(path, lambda p: ds.to_netcdf(p, engine="scipy"))
    return path


def _gather(sessions: Sequence[SessionNeutral]) -> dict[str, np.ndarray]:
    """Frame- and trial-level decoding sets: (HOG - session neutral), labels, animals."""
    fx, fy, fg, tx, ty, tg, trow = [], [], [], [], [], [], []
    for s in sessions:
        for k, emo in enumerate(s.events["emotion"]):
            for window, label in (("response", emo), ("baseline", NEUTRAL)):
                idx = s.good_rows(s.masks[window][k])
                X = s.hog_rows(idx) - s.neutral
                fx.append(X)
                fy += [label] * len(X)
                fg += [s.animal] * len(X)
                if window == "response":
                    tx.append(X.mean(axis=0))
                    ty.append(label)
                    tg.append(s.animal)
                    trow.append((s.id, int(s.events["trial"].iloc[k])))
    return {
        "fx": np.concatenate(fx),
        "fy": np.asarray(fy, dtype=object),
        "fg": np.asarray(fg, dtype=object),
        "tx": np.stack(tx),
        "ty": np.asarray(ty, dtype=object),
        "tg": np.asarray(tg, dtype=object),
        "trow": trow,
    }


def decoding_dataset(
    sessions: Sequence[SessionNeutral],
    trials: pd.DataFrame,
    cfg: ProjectConfig,
    *,
    max_per_key: int = 400,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Decode emotions leave-one-animal-out at frame and trial level.

    Frames: response-window frames carry their trial's emotion, baseline frames ``neutral``;
    features are HOG minus the session's neutral prototype; at most ``max_per_key`` frames per
    (animal, class). Trials: the mean response-window row, among the trials' emotions (skipped
    when all trials share one emotion). The first decoder of
    ``cfg.decoders`` gives each trial's out-of-fold ``predicted`` and ``p_<class>``.

    Returns
    -------
    decoding : DataFrame
        Tidy table (empty when decoding is impossible).
    trials : DataFrame
        With ``predicted`` and ``p_<class>`` columns added.
    notes : list of str
        Why decoding was skipped, if it was.
    """
    trials = trials.copy()
    trials["predicted"] = None
    animals = sorted({s.animal for s in sessions})
    if len(animals) < 2:
        return (
            pd.DataFrame(),
            trials,
            [
                f"decoding skipped: leave-one-animal-out needs at least 2 animals, the project has "
                f"{len(animals)} ({', '.join(animals)})"
            ],
        )
    data = _gather(sessions)
    keep = subsample_per_group(
        np.char.add(data["fg"].astype(str), "|" + data["fy"].astype(str)), max_per_key=max_per_key
    )
    frame_table, _ = decode_all(
        data["fx"][keep], data["fy"][keep], data["fg"][keep], decoders=cfg.decoders, level="frame"
    )
    if len(np.unique(data["ty"])) < 2:
        return (
            frame_table,
            trials,
            [
                "trial-level decoding skipped: all trials have the same emotion "
                f"({data['ty'][0]}); 'predicted' is left empty"
            ],
        )
    trial_table, preds = decode_all(
        data["tx"], data["ty"], data["tg"], decoders=cfg.decoders, level="trial"
    )
    pred, proba, classes = preds[cfg.decoders[0]]
    lookup = {key: i for i, key in enumerate(data["trow"])}
    order = [
        lookup[(sid, int(t))] for sid, t in zip(trials["session"], trials["trial"], strict=True)
    ]
    trials["predicted"] = [pred[i] for i in order]
    for j, c in enumerate(classes):
        trials[f"p_{c}"] = proba[order, j]
    return pd.concat([frame_table, trial_table], ignore_index=True), trials, []
