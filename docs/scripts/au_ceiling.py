"""How well the generator's *true* action units name the emotion of an unseen animal.

Usage::

    mouseface synth dev101 --animals 6 --seed 101
    python docs/scripts/au_ceiling.py dev101

The decoders of ``docs/validation.md`` see HOG and flow of the rendered video. This script gives
the same leave-one-subject-out test the ground truth's action units (``truth/<session>.parquet``,
``au_*``: ten numbers per frame, exactly what the generator warped into the face, with the
animal's own style) instead of image features, so it shows what the data allow before any image
is read:

- ``prototype``: nearest class mean by Pearson r (the pipeline's readout, without a gate);
- ``logistic``: multinomial logistic regression (C = 1) on the ten units.

Training rows: baseline-window frames ([-2, 0) s, ``neutral``) and response-window frames
([0, 2) s, the trial's emotion) of the other subjects, each session's baseline mean subtracted.
Scored like ``mouseface score``: frames chosen by the truth
(:func:`mouseface.decoding.scoring.truth_frames`), balanced accuracy over the classes; trials
named by the mean class probability over their response window, accuracy over every trial.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from mouseface.decoding.scoring import truth_frames
from mouseface.synth.profiles import STIMULUS_EMOTION

BASELINE = (-2.0, 0.0)
RESPONSE = (0.0, 2.0)


def load_sessions(data: Path) -> list[dict]:
    """Per session: subject, baseline-subtracted AU rows, windows and the truth's selection."""
    cfg = yaml.safe_load((data / "mouseface.yaml").read_text())
    out = []
    for s in cfg["sessions"]:
        truth = pd.read_parquet(data / "truth" / f"{s['id']}.parquet")
        events = pd.read_csv(data / s["events"], sep="\t")
        t = truth["time"].to_numpy()
        au = truth.filter(like="au_").to_numpy(np.float64)
        base = np.zeros(len(t), bool)
        label = np.full(len(t), None, dtype=object)
        trial = np.full(len(t), -1)
        for i, ev in events.iterrows():
            base |= (t >= ev.onset + BASELINE[0]) & (t < ev.onset + BASELINE[1])
            m = (t >= ev.onset + RESPONSE[0]) & (t < ev.onset + RESPONSE[1])
            label[m], trial[m] = STIMULUS_EMOTION[ev.trial_type], i
        scored, true = truth_frames(truth, events["onset"].to_numpy())
        out.append(
            {
                "subject": s.get("subject") or s["animal"],
                "X": au - au[base].mean(axis=0),
                "base": base,
                "label": label,
                "trial": trial,
                "emotions": [STIMULUS_EMOTION[x] for x in events["trial_type"]],
                "scored": scored,
                "true": true,
            }
        )
    return out


def _prototype(X: np.ndarray, y: np.ndarray):
    classes = np.unique(y)
    P = np.array([X[y == c].mean(axis=0) for c in classes])
    P = P - P.mean(axis=1, keepdims=True)
    P /= np.linalg.norm(P, axis=1, keepdims=True)

    def proba(Z: np.ndarray) -> np.ndarray:
        Z = Z - Z.mean(axis=1, keepdims=True)
        r = (Z / (np.linalg.norm(Z, axis=1, keepdims=True) + 1e-12)) @ P.T
        e = np.exp((r - r.max(axis=1, keepdims=True)) / 0.02)
        return e / e.sum(axis=1, keepdims=True)

    return classes, proba


def _logistic(X: np.ndarray, y: np.ndarray):
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(X, y)
    return clf.classes_, clf.predict_proba


def evaluate(sessions: list[dict], fit) -> dict:  # noqa: ANN001
    """Leave-one-subject-out frame and trial scores of one decoder (``fit(X, y)``)."""
    frames_true, frames_pred, trials_true, trials_pred = [], [], [], []
    for held in sorted({s["subject"] for s in sessions}):
        train = [s for s in sessions if s["subject"] != held]
        X = np.vstack([np.vstack([s["X"][s["base"]], s["X"][s["label"] != None]]) for s in train])  # noqa: E711
        y = np.concatenate(
            [
                np.concatenate([["neutral"] * int(s["base"].sum()), s["label"][s["label"] != None]])  # noqa: E711
                for s in train
            ]
        )
        classes, proba = fit(X, y)
        for s in (s for s in sessions if s["subject"] == held):
            p = proba(s["X"])
            frames_true += list(s["true"][s["scored"]])
            frames_pred += list(classes[p.argmax(axis=1)][s["scored"]])
            for i, emotion in enumerate(s["emotions"]):
                m = s["trial"] == i
                if m.any():
                    trials_true.append(emotion)
                    trials_pred.append(classes[p[m].mean(axis=0).argmax()])
    return {
        "frames": round(float(balanced_accuracy_score(frames_true, frames_pred)), 3),
        "trials": round(float(np.mean(np.array(trials_true) == np.array(trials_pred))), 3),
        "n_trials": len(trials_true),
    }


def main(argv: list[str]) -> None:
    """``au_ceiling.py DATA``: one JSON line per decoder."""
    sessions = load_sessions(Path(argv[0]))
    for name, fit in (("prototype", _prototype), ("logistic", _logistic)):
        print(json.dumps({"data": Path(argv[0]).name, "decoder": name, **evaluate(sessions, fit)}))


if __name__ == "__main__":
    main(sys.argv[1:])
