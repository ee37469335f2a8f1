"""Project-wide pipeline steps: prototypes file and decoding (see :mod:`mouseface.pipeline.run`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from mouseface.decoding.quick import decode_all, subsample_per_group
from mouseface.expression.prototypes import (
    Candidates,
    animal_prototypes,
    pooled_prototypes,
    similarity_matrix,
)
from mouseface.features.hog import hog_shape
from mouseface.io.config import ProjectConfig
from mouseface.io.outputs import write_netcdf_atomic
from mouseface.pipeline.session import SessionData, good_rows, read_hog_rows

__all__ = ["write_prototypes", "decoding_dataset"]

NEUTRAL = "neutral"


def write_prototypes(
    sessions: list[SessionData], cands: Candidates, cfg: ProjectConfig, out: Path
) -> dict:
    """Build per-animal and pooled prototypes and write ``prototypes.nc``.

    Returns
    -------
    dict
        ``{"animal": {(animal, emotion): (d,)}, "pooled": {emotion: (d,)}}`` (neutral excluded).
    """
    per_animal = animal_prototypes(cands, n=cfg.prototype_frames)
    pooled = pooled_prototypes(per_animal)
    neutral_by_animal: dict[str, list[np.ndarray]] = {}
    for s in sessions:
        neutral_by_animal.setdefault(s.cfg.animal, []).append(s.neutral)
    animal_neutral = {a: np.mean(v, axis=0) for a, v in neutral_by_animal.items()}
    names = [NEUTRAL, *pooled]
    animals = sorted(animal_neutral)
    P = np.stack([np.mean(list(animal_neutral.values()), axis=0), *pooled.values()])
    d = P.shape[1]
    A = np.full((len(animals), len(names), d), np.nan, dtype=np.float32)
    for i, a in enumerate(animals):
        A[i, 0] = animal_neutral[a]
        for j, e in enumerate(names[1:], start=1):
            if (a, e) in per_animal:
                A[i, j] = per_animal[(a, e)]
    first = sessions[0]
    face = zarr.open_group(str(first.store), mode="r")["mean_face"][:]
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
    write_netcdf_atomic(out / "prototypes.nc", lambda p: ds.to_netcdf(p, engine="scipy"))
    return {"animal": per_animal, "pooled": pooled}


def _gather(sessions: list[SessionData]) -> dict[str, np.ndarray]:
    """Frame- and trial-level decoding sets: (HOG - session neutral), labels, animals."""
    fx, fy, fg, tx, ty, tg, trow = [], [], [], [], [], [], []
    for s in sessions:
        for k, emo in enumerate(s.events["emotion"]):
            for window, label in (("response", emo), ("baseline", NEUTRAL)):
                idx = good_rows(s, s.masks[window][k])
                X = read_hog_rows(s, idx) - s.neutral
                fx.append(X)
                fy += [label] * len(X)
                fg += [s.cfg.animal] * len(X)
                if window == "response":
                    tx.append(X.mean(axis=0))
                    ty.append(label)
                    tg.append(s.cfg.animal)
                    trow.append((s.cfg.id, int(s.events["trial"].iloc[k])))
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
    sessions: list[SessionData], trials: pd.DataFrame, cfg: ProjectConfig, *, max_per_key: int = 400
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
    animals = sorted({s.cfg.animal for s in sessions})
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
