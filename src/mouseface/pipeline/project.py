"""Project-wide pipeline stages: prototypes (and ``prototypes.nc``) and decoding.

See :mod:`mouseface.pipeline.run`, which orders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from mouseface.decoding.evaluation import frame_data, frame_predictions
from mouseface.decoding.perframe import decoding_table, predict_every_frame, trial_calls
from mouseface.errors import InputError
from mouseface.expression.frameset import SessionInput, build_frame_set
from mouseface.expression.prototypes import (
    Candidates,
    animal_prototypes,
    pooled_prototypes,
    similarity_matrix,
)
from mouseface.features.hog import hog_shape
from mouseface.io.config import ProjectConfig
from mouseface.io.feature_store import open_features, open_hog, open_store
from mouseface.io.outputs import write_netcdf_atomic, write_parquet_atomic
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
    columns = open_features(first.store).slices()
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
            # the feature vector is the feature sets stacked in this order; hog columns first
            # and last index (stop) of each set, so that readers can take the HOG part
            "feature_sets": ",".join(columns),
            **{f"{k}_columns": [v.start, v.stop] for k, v in columns.items()},
            "description": "pooled prototype = mean of the animals' prototypes; an animal's "
            "emotion prototype = mean feature vector of its stimulus-window frames least "
            "correlated with its session's neutral prototype",
        },
    )
    path = out / "prototypes.nc"
    write_netcdf_atomic(path, lambda p: ds.to_netcdf(p, engine="scipy"))
    return path


def _session_inputs(sessions: Sequence[SessionNeutral], trials: pd.DataFrame) -> list[SessionInput]:
    """The frame-set inputs of every session, read back from its output folder."""
    out = []
    for s in sessions:
        folder = Path(s.features.store).parent
        t = trials[trials["session"].astype(str) == s.id]
        out.append(
            SessionInput(
                session=s.id,
                animal=s.animal,
                frames=pd.read_parquet(folder / "frames.parquet"),
                trials=t,
                hog=lambda store=s.features.store: open_hog(store),
            )
        )
    return out


def decoding_dataset(
    sessions: Sequence[SessionNeutral], trials: pd.DataFrame, cfg: ProjectConfig
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Decode emotions leave-one-animal-out; name every frame and trial out of fold.

    The frames and settings are the decoding analysis' (``analyses.decoding`` options of the
    config; decoders ``cfg.decoders``): baseline frames ``neutral``, response-window frames
    their trial's emotion, features ``[change_z, HOG - neutral]`` with the baseline cross-fitted
    per trial, the gated decoders of :func:`mouseface.decoding.factory.make_decoder`, folds
    holding out one subject (or animal). Each held-out animal's fold decoder of the first of
    ``cfg.decoders`` then names every frame of its sessions: ``predicted`` and ``p_<class>``
    are added to ``sessions/<id>/frames.parquet``; a trial's ``predicted`` is the emotion most
    of its response-window frames are named and ``p_<class>`` each class's share of them.

    Returns
    -------
    decoding : DataFrame
        Tidy table (empty when decoding is impossible).
    trials : DataFrame
        With ``predicted`` and ``p_<class>`` columns added.
    notes : list of str
        Why decoding was skipped, if it was.
    """
    from mouseface.analyses.decoding import settings_from_options

    trials = trials.copy()
    trials["predicted"] = None
    subjects = {s.id: s.features.inputs.cfg.subject or s.animal for s in sessions}
    groups = sorted(set(subjects.values()))
    if len(groups) < 2:
        return (
            pd.DataFrame(),
            trials,
            [
                f"decoding skipped: leave-one-animal-out needs at least 2 animals, the project has "
                f"{len(groups)} ({', '.join(groups)})"
            ],
        )
    st, opt = settings_from_options(cfg.analyses.get("decoding", {}) or {})
    st = replace(st, decoders=tuple(cfg.decoders))
    try:
        fs = build_frame_set(
            _session_inputs(sessions, trials),
            windows=cfg.windows.model_dump(),
            exclude_flagged=bool(opt["exclude_flagged"]),
            valid_only=bool(opt["valid_only"]),
            crossfit=True,
        )
        d = frame_data(fs, st, subjects=subjects)
    except InputError as exc:
        return pd.DataFrame(), trials, [f"decoding skipped: {exc}"]
    tables, notes, first = [], [], None
    for name in st.decoders:
        oof = frame_predictions(d, name, "animal", st)
        notes += [f"decoding, {name}, {n}" for n in oof.notes]
        if len(oof.index):
            tables.append(decoding_table(d, oof, decoder=name))
            first = first or oof
    if first is None:
        return pd.DataFrame(), trials, [*notes, "decoding skipped: no fold could be fitted"]
    classes = first.classes
    response = tuple(cfg.windows.response)
    for s in sessions:
        est = first.estimators.get(subjects[s.id])
        if est is None:
            continue
        folder = Path(s.features.store).parent
        frames = pd.read_parquet(folder / "frames.parquet")
        hog = open_hog(s.features.store)
        neutral = fs.frames.get(s.id)
        if neutral is None:
            continue
        pred, proba, as_changed = predict_every_frame(hog, neutral, est, classes)
        frames["predicted"] = pred.astype(str)
        for j, c in enumerate(classes):
            frames[f"p_{c}"] = proba[:, j]
        write_parquet_atomic(folder / "frames.parquet", frames)
        rows = fs.rows[fs.rows["session"] == s.id]
        usable = np.zeros(len(frames), bool)
        usable[rows["frame"].to_numpy()] = True
        mine = trials["session"].astype(str) == s.id
        call, share = trial_calls(
            frames["time"].to_numpy(float),
            trials.loc[mine, "onset"].to_numpy(float),
            response,
            pred,
            usable,
            classes,
            as_changed=as_changed,
            change_z=neutral.change_z,
        )
        trials.loc[mine, "predicted"] = call
        for j, c in enumerate(classes):
            trials.loc[mine, f"p_{c}"] = share[:, j]
    return pd.concat(tables, ignore_index=True), trials, notes
