"""Which face features a linear readout can use on unseen mice: the offline comparison behind the
flow and decoder choices (``docs/validation.md``, development data only).

Usage::

    mouseface synth dev101 --animals 6 --seed 101
    python docs/scripts/flow_readout.py dev101 flow-head flow hog flow-head+hog

For each session the face box (the config's ROI) of every frame is resized to the run's common
face size (320 px wide), and the named features are computed with the package's own functions:
``flow`` (:func:`mouseface.features.flow.cell_flow` against the median of the first 64 frames,
the head's movement kept), ``flow-head`` (the same with ``head=False``), ``hog`` (the default
16-px HOG). Each session's features minus the mean of its baseline frames are read by
standardised columns, PCA (50) and a logistic regression (C = 0.01), trained on the baseline
(``neutral``) and response-window frames (the trial's emotion) of the other real mice (leave one
``subject`` out). Printed per feature set: the balanced accuracy over the 7 classes on the frames
the ground truth chooses (:func:`mouseface.decoding.scoring.truth_frames`) and the share of
emotion trials named right (the emotion most of the window's frames are named; frames named
neutral do not vote).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mouseface.decoding.evaluation import trial_votes
from mouseface.decoding.scoring import truth_frames
from mouseface.features.extract import common_face_size, resize_faces
from mouseface.features.flow import cell_flow, flow_reference
from mouseface.features.hog import hog
from mouseface.io.video import VideoReader


def session_features(data: Path, s: dict, size: tuple[int, int], names: set[str]) -> dict:
    """Every frame's features of one session, by feature set name."""
    reader = VideoReader(data / s["video"], roi=tuple(s["roi"]))
    faces = resize_faces(np.concatenate([c.frames for c in reader.chunks()]), size)
    ref = flow_reference(np.median(faces[:64], axis=0), cell=16)
    out = {}
    if "flow" in names:
        out["flow"] = cell_flow(faces, ref, n_jobs=-1)
    if "flow-head" in names:
        out["flow-head"] = cell_flow(faces, ref, head=False, n_jobs=-1)
    if "hog" in names:
        out["hog"] = hog(faces, pixels_per_cell=(16, 16), n_jobs=-1)
    return out


def main(argv: list[str]) -> None:
    """``flow_readout.py DATA SET[+SET]...``."""
    data, variants = Path(argv[0]), argv[1:]
    cfg = yaml.safe_load((data / "mouseface.yaml").read_text())
    emotions, base_w, resp_w = (
        cfg["emotions"],
        cfg["windows"]["baseline"],
        cfg["windows"]["response"],
    )
    size = common_face_size([(s["roi"][3], s["roi"][2]) for s in cfg["sessions"]], 320)
    names = {n for v in variants for n in v.split("+")}
    sessions = []
    for s in cfg["sessions"]:
        ev = pd.read_csv(data / s["events"], sep="\t")
        truth = pd.read_parquet(data / "truth" / f"{s['id']}.parquet")
        t = truth["time"].to_numpy()
        scored, label = truth_frames(truth, ev["onset"].to_numpy())
        train = np.full(len(t), None, dtype=object)
        trial = np.full(len(t), -1)
        for _, r in ev.iterrows():
            train[(t >= r.onset + base_w[0]) & (t < r.onset + base_w[1])] = "neutral"
        for k, r in ev.iterrows():
            m = (t >= r.onset + resp_w[0]) & (t < r.onset + resp_w[1])
            train[m], trial[m] = emotions[r.trial_type], k
        feats = session_features(data, s, size, names)
        sessions.append(
            {"subject": s.get("subject", s["animal"]), "features": feats, "train": train,
             "scored": scored, "label": label, "trial": trial, "events": ev}
        )  # fmt: skip
    subjects = sorted({s["subject"] for s in sessions})
    for v in variants:
        X = []
        for s in sessions:
            x = np.hstack([s["features"][n] for n in v.split("+")]).astype(np.float64)
            X.append(x - x[s["train"] == "neutral"].mean(axis=0))
        true, pred, trials_right = [], [], []
        for held in subjects:
            fit = [i for i, s in enumerate(sessions) if s["subject"] != held]
            rows = [sessions[i]["train"] != None for i in fit]  # noqa: E711
            x_fit = np.vstack([X[i][r] for i, r in zip(fit, rows, strict=True)])
            y_fit = [sessions[i]["train"][r] for i, r in zip(fit, rows, strict=True)]
            model = make_pipeline(
                StandardScaler(), PCA(50, random_state=0), LogisticRegression(C=0.01, max_iter=3000)
            ).fit(x_fit, np.concatenate(y_fit).astype(str))
            for i, s in enumerate(sessions):
                if s["subject"] != held:
                    continue
                p = model.predict(X[i])
                true.append(s["label"][s["scored"]].astype(str))
                pred.append(p[s["scored"]])
                # the pipeline's trial rule (frames named neutral do not vote)
                window = s["trial"] >= 0
                trials, votes = trial_votes(s["trial"][window], p[window], model.classes_)
                calls = dict(zip(trials, model.classes_[votes.argmax(axis=1)], strict=True))
                for k, r in s["events"].iterrows():
                    trials_right.append(calls[str(k)] == emotions[r.trial_type])
        ba = balanced_accuracy_score(np.concatenate(true), np.concatenate(pred))
        print(f"{v:16s} frames {ba:.3f}  trials {np.mean(trials_right):.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
