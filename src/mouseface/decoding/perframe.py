"""Every frame named out of fold, trial calls from the frames, and the tidy ``decoding.parquet``.

- :func:`predict_every_frame`: a held-out animal's fold decoder (from
  :func:`~mouseface.decoding.evaluation.frame_predictions`) names every frame of one of its
  sessions, read in blocks (features as in the frame set: ``[change_z, HOG - neutral]`` with the
  frame's own, possibly cross-fitted, neutral prototype);
- :func:`trial_calls`: a trial is named by the emotion most of its response-window frames are
  named (the decoding analysis' ``trial`` level and its rule for a trial with no frame named an
  emotion), with each class's share of the votes;
- :func:`decoding_table`: per-fold scores and confusion counts of the frame and trial levels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from mouseface.decoding.evaluation import FrameData, OutOfFold, level_table, window_votes
from mouseface.decoding.metrics import scores
from mouseface.expression.frameset import SessionNeutral

__all__ = ["predict_every_frame", "trial_calls", "decoding_table"]

_BLOCK = 4096


def predict_every_frame(
    hog,  # noqa: ANN001
    neutral: SessionNeutral,
    estimator: BaseEstimator,
    classes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Predictions and probabilities of every frame of a session.

    Parameters
    ----------
    hog : ndarray or zarr array, shape (n, d)
        The session's feature rows, read in blocks.
    neutral : SessionNeutral
        The session's per-frame neutral prototypes and change z-scores.
    estimator : estimator
        A fitted gated decoder (column 0 of its input is the change z-score).
    classes : ndarray, shape (k,)
        Column order of the returned probabilities (a class the estimator never saw gets 0).

    Returns
    -------
    predicted : ndarray of object, shape (n,)
    proba : ndarray of float32, shape (n, k)
    as_changed : ndarray of object, shape (n,), or None
        The label the classifier behind the gate gives each frame (None for an ungated
        estimator); see :func:`~mouseface.decoding.evaluation.window_votes`.
    """
    n = hog.shape[0]
    predicted = np.empty(n, dtype=object)
    gated = hasattr(estimator, "predict_changed")
    as_changed = np.empty(n, dtype=object) if gated else None
    proba = np.zeros((n, len(classes)), dtype=np.float32)
    cols = np.searchsorted(classes, np.asarray(estimator.classes_, dtype=object))
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        feats = (np.asarray(hog[lo:hi]) - neutral.neutrals[neutral.which[lo:hi]]).astype(np.float32)
        X = np.hstack([neutral.change_z[lo:hi, None], feats.astype(np.float64)])
        predicted[lo:hi] = estimator.predict(X)
        proba[lo:hi, cols] = estimator.predict_proba(X)
        if as_changed is not None:
            as_changed[lo:hi] = estimator.predict_changed(X)
    return predicted, proba, as_changed


def trial_calls(
    times: np.ndarray,
    onsets: np.ndarray,
    response: tuple[float, float],
    predicted: np.ndarray,
    usable: np.ndarray,
    classes: np.ndarray,
    *,
    as_changed: np.ndarray | None = None,
    change_z: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each trial named by the emotion most of its response-window frames are named.

    Frames named ``neutral`` do not vote (see :func:`~mouseface.decoding.evaluation.
    window_votes`).

    Parameters
    ----------
    times : ndarray, shape (n,)
        Frame times, s.
    onsets : ndarray, shape (t,)
        Trial onsets, s.
    response : (float, float)
        Response window relative to the onset, s.
    predicted : ndarray, shape (n,)
        Every frame's prediction.
    usable : ndarray of bool, shape (n,)
        Frames without a quality flag (all of a window's frames are used when none is).
    classes : ndarray, shape (k,), sorted, containing ``neutral``
    as_changed, change_z : ndarray, shape (n,), optional
        Every frame's label without the gate and its change z-score: a trial with no frame
        named an emotion is then named by its most changed frames
        (:func:`~mouseface.decoding.evaluation.window_votes`), otherwise ``neutral``.

    Returns
    -------
    call : ndarray of object, shape (t,)
        None when the window has no frame.
    share : ndarray of float64, shape (t, k)
        Fraction of the votes for each class.
    """
    labels = np.asarray(classes, dtype=object).astype(str)
    call = np.full(len(onsets), None, dtype=object)
    share = np.full((len(onsets), len(labels)), np.nan)
    for i, onset in enumerate(np.asarray(onsets, dtype=np.float64)):
        m = (times >= onset + response[0]) & (times < onset + response[1])
        if not m.any():
            continue
        m = m & usable if (m & usable).any() else m
        counts = window_votes(
            labels,
            predicted[m],
            as_changed=None if as_changed is None else as_changed[m],
            change_z=None if change_z is None else change_z[m],
        )
        share[i] = counts / counts.sum()
        call[i] = labels[int(np.argmax(counts))]
    return call, share


def decoding_table(d: FrameData, oof: OutOfFold, *, decoder: str) -> pd.DataFrame:
    """Tidy per-fold table of ``decoding.parquet`` (leave one animal out).

    Levels: ``frame`` (every baseline and response-window frame of the frame data, the gate
    included: a response frame called neutral is an error) and ``trial`` (the emotion most of
    its frames are named). Metrics per fold: accuracy, balanced_accuracy, n_test, and ``count`` rows
    (true, predicted).
    """
    table = level_table(d, oof)
    table = table[table["level"].isin(["frame_all", "trial"])]
    table = table.assign(level=table["level"].replace({"frame_all": "frame"}))
    classes = np.array(sorted(set(table["true"]) | set(table["predicted"])), dtype=object)
    rows = []
    number = {f: i for i, f in enumerate(sorted(set(table["fold"])))}
    for (lev, fold), g in table.groupby(["level", "fold"], sort=True):
        base = {"decoder": decoder, "level": lev, "fold": number[fold], "held_out": str(fold)}
        sc = scores(g["true"].to_numpy(), g["predicted"].to_numpy(), classes)
        for metric, value in (
            ("accuracy", sc["accuracy"]),
            ("balanced_accuracy", sc["balanced_accuracy"]),
            ("n_test", len(g)),
        ):
            rows.append({**base, "metric": metric, "value": float(value), "true": None,
                         "predicted": None})  # fmt: skip
        counts = g.groupby(["true", "predicted"]).size()
        for (t, p), c in counts.items():
            rows.append({**base, "metric": "count", "value": float(c), "true": str(t),
                         "predicted": str(p)})  # fmt: skip
    return pd.DataFrame(rows)
