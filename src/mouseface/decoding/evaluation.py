"""Cross-validated frame decoding: the one evaluation path of the pipeline, analyses and library.

:func:`cross_validate` fits a decoder from :func:`~mouseface.decoding.factory.make_decoder` on
the training rows of every split (:func:`~mouseface.decoding.splits.cv_splits`: by animal, by
session, random splits of trials) and returns the out-of-fold predictions and probabilities of
every test row, plus the fitted estimator of each fold (to predict further frames of the
held-out animal). :func:`frame_predictions` does this for a
:class:`~mouseface.expression.frameset.FrameSet` (``X = [change_z, HOG - neutral]``, the gated
decoder): the pipeline's ``decoding.parquet``, its per-frame ``predicted`` / ``p_<class>`` and
the decoding analysis all call it, so the same frames and settings give the same predictions.

:func:`decode_frames` (the decoding analysis) scores three levels of the same out-of-fold
predictions:

- ``frame``: baseline frames (true class ``neutral``) and the stimulus-window frames in which
  the face has changed (``change_z > threshold``; the rule uses no labels);
- ``frame_all``: every baseline and stimulus-window frame (a stimulus-window frame below the
  gate is predicted ``neutral`` and counts as an error): what the decoder does on all frames;
- ``trial``: each trial's response window, named by the emotion most of its frames are named
  (frames named ``neutral`` do not vote; when no frame is named an emotion, by its most changed
  quarter of frames, read by the classifier behind the gate: :func:`window_votes`).

Intervals: percentile intervals of a cluster bootstrap over animals (the unit of
generalisation; an animal's frames are resampled together). Chance: the out-of-fold
predictions permuted within each animal (no refit; valid because a held-out row's prediction
never used its label), ``n_permutations`` times; the p-value is ``(1 + #null >= observed) /
(1 + n)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from mouseface.decoding.estimators import clip_components
from mouseface.decoding.factory import DECODERS, GATE_THRESHOLD, make_decoder
from mouseface.decoding.metrics import (
    bootstrap_confusion,
    confusion,
    permuted_balanced_accuracy,
    scores,
    scores_from_confusion,
)
from mouseface.decoding.splits import Split, cv_splits
from mouseface.errors import InputError
from mouseface.expression.frameset import NEUTRAL, FrameSet, cap_per_group
from mouseface.stats.bootstrap import percentile_interval
from mouseface.stats.permutation import permutation_p_value

__all__ = [
    "DecodeSettings",
    "OutOfFold",
    "FrameData",
    "cross_validate",
    "frame_data",
    "frame_predictions",
    "trial_votes",
    "window_votes",
    "as_changed_labels",
    "FALLBACK_SHARE",
    "level_table",
    "decode_frames",
    "summary_numbers",
    "LEVELS",
]

LEVELS = ("frame", "frame_all", "trial")


@dataclass(frozen=True)
class DecodeSettings:
    """Decoder and evaluation settings shared by the pipeline and the decoding analysis.

    ``threshold`` is the neutral gate (robust z of the change), ``max_frames`` the frames kept
    per session and class for training and scoring, ``n_boot`` the animal-bootstrap replicates,
    ``n_permutations`` the permutations of the predictions.
    """

    decoders: tuple[str, ...] = DECODERS
    schemes: tuple[str, ...] = ("animal", "session", "random")
    threshold: float = GATE_THRESHOLD
    max_frames: int = 120
    n_boot: int = 1000
    n_permutations: int = 1000
    permutation_schemes: tuple[str, ...] = ("animal",)
    n_splits: int = 5
    test_size: float = 0.25
    ci: float = 0.95
    seed: int = 0

    def decoder(self, name: str, *, columns: dict[str, slice] | None = None) -> BaseEstimator:
        """The gated decoder ``name`` with these settings (unfitted).

        ``columns`` (feature set -> its columns of the feature rows, :attr:`FrameData.columns`)
        lets a decoder that reads one set (``logistic``: the cell flow) find it.
        """
        return make_decoder(name, gate=self.threshold, random_state=self.seed, columns=columns)


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold predictions of one decoder under one scheme.

    Attributes
    ----------
    fold : ndarray of str, shape (m,)
        Fold of each prediction (held-out animal or session, or ``split<k>``).
    index : ndarray of int64, shape (m,)
        Row of ``X`` predicted (a row appears once per fold that tests it).
    predicted : ndarray of object, shape (m,)
    proba : ndarray of float64, shape (m, k)
        Probabilities in ``classes`` order (0 for a class the fold never saw).
    classes : ndarray of object, shape (k,)
    estimators : dict
        fold -> fitted estimator.
    notes : tuple of str
        Folds that could not be fitted and why.
    """

    fold: np.ndarray
    index: np.ndarray
    predicted: np.ndarray
    proba: np.ndarray
    classes: np.ndarray
    estimators: dict[str, BaseEstimator] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def cross_validate(
    make: Callable[[], BaseEstimator],
    X: np.ndarray,
    y: np.ndarray,
    splits: Sequence[Split],
    *,
    fit_rows: np.ndarray | None = None,
) -> OutOfFold:
    """Fit a fresh estimator per split and predict its test rows.

    Parameters
    ----------
    make : callable
        ``make() -> estimator`` (e.g. ``lambda: make_decoder("linear", gate=5.0)``).
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
        Labels (read on training rows only).
    splits : sequence of Split
        From :func:`~mouseface.decoding.splits.cv_splits`.
    fit_rows : ndarray of bool, shape (n,), optional
        Rows a fold may train on (default all); every test row is predicted.

    Returns
    -------
    OutOfFold
        A fold whose training rows hold fewer than 2 classes (or that the estimator refuses
        with an InputError) is skipped and named in ``notes``.
    """
    X = np.asarray(X)
    y = np.asarray(y, dtype=object)
    fit = np.ones(len(y), bool) if fit_rows is None else np.asarray(fit_rows, bool)
    parts, fitted, notes = [], {}, []
    for sp in splits:
        tr = sp.train[fit[sp.train]]
        if len(np.unique(y[tr])) < 2:
            notes.append(f"fold {sp.fold}: skipped: fewer than 2 classes to train on")
            continue
        est = clip_components(make(), len(tr), X.shape[1])
        try:
            est.fit(X[tr], y[tr])
        except InputError as exc:
            notes.append(f"fold {sp.fold}: skipped: {exc}")
            continue
        fitted[sp.fold] = est
        parts.append(
            (sp.fold, sp.test, est.predict(X[sp.test]), est.predict_proba(X[sp.test]), est)
        )
    if not parts:
        empty = np.zeros(0, dtype=object)
        return OutOfFold(
            np.zeros(0, str),
            np.zeros(0, np.int64),
            empty,
            np.zeros((0, 0)),
            empty,
            {},
            tuple(notes),
        )
    classes = np.unique(np.concatenate([np.asarray(p[4].classes_, dtype=object) for p in parts]))
    proba = np.zeros((sum(len(p[1]) for p in parts), len(classes)))
    row = 0
    for _, te, _, pr, est in parts:
        cols = np.searchsorted(classes, np.asarray(est.classes_, dtype=object))
        proba[np.ix_(np.arange(row, row + len(te)), cols)] = pr
        row += len(te)
    return OutOfFold(
        fold=np.concatenate([np.full(len(p[1]), p[0]) for p in parts]).astype(str),
        index=np.concatenate([p[1] for p in parts]).astype(np.int64),
        predicted=np.concatenate([p[2] for p in parts]).astype(object),
        proba=proba,
        classes=classes.astype(object),
        estimators=fitted,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class FrameData:
    """The rows of a :class:`FrameSet` the decoders train on and are scored on.

    Attributes
    ----------
    rows : DataFrame
        The kept rows of ``FrameSet.rows`` (at most ``max_frames`` per session and label),
        with a ``group`` column (the unit held out by the ``animal`` scheme: subject or animal).
    X : ndarray of float64, shape (n, 1 + d)
        Column 0 the change z-score (the gate), then ``HOG - neutral``.
    y : ndarray of object, shape (n,)
    changed : ndarray of bool, shape (n,)
        ``change_z > threshold``.
    response : ndarray of bool, shape (n,)
    columns : dict
        Feature set name -> its columns of ``X[:, 1:]`` (:attr:`FrameSet.columns`).
    """

    rows: pd.DataFrame
    X: np.ndarray
    y: np.ndarray
    changed: np.ndarray
    response: np.ndarray
    columns: dict[str, slice] = field(default_factory=dict)


def frame_data(
    fs: FrameSet, st: DecodeSettings, *, subjects: dict[str, str] | None = None
) -> FrameData:
    """Rows to decode: at most ``st.max_frames`` per (session, label), gate column first.

    Parameters
    ----------
    fs : FrameSet
    st : DecodeSettings
    subjects : dict, optional
        session -> subject (animals of one subject are held out together); default the animal.

    Raises
    ------
    InputError
        No stimulus-window frame, an emotion with no changed frame, or no baseline frame.
    """
    r = fs.rows
    keys = (r["session"].astype(str) + "|" + r["label"].astype(str)).to_numpy()
    keep = cap_per_group(keys, max_per_group=st.max_frames, seed=st.seed)
    r = r.iloc[keep].reset_index(drop=True)
    subjects = subjects or {}
    r["group"] = [subjects.get(s, a) for s, a in zip(r["session"], r["animal"], strict=True)]
    X = np.hstack([r["change_z"].to_numpy(np.float64)[:, None], fs.X[keep].astype(np.float64)])
    d = FrameData(
        rows=r,
        X=X,
        y=r["label"].to_numpy(object),
        changed=r["change_z"].to_numpy() > st.threshold,
        response=(r["window"] == "response").to_numpy(),
        columns=dict(fs.columns),
    )
    emotions = sorted(set(d.y[d.response]))
    if not emotions:
        raise InputError("no stimulus-window frame to decode: check the trials and windows")
    dead = [e for e in emotions if not (d.changed & d.response & (d.y == e)).any()]
    if dead:
        raise InputError(
            f"class(es) {', '.join(dead)} have no stimulus-window frame whose change z-score "
            f"exceeds {st.threshold:g}: the face did not change in those trials; lower "
            "analyses.decoding.change_threshold or drop those trials"
        )
    if not (d.y == NEUTRAL).any():
        raise InputError("no baseline frame: the neutral class has no frames")
    return d


def _splits(d: FrameData, scheme: str, st: DecodeSettings) -> list[Split]:
    return cv_splits(
        scheme,
        animals=d.rows["group"].to_numpy(str),
        sessions=d.rows["session"].to_numpy(str),
        clusters=d.rows["cluster"].to_numpy(str),
        n_splits=st.n_splits,
        test_size=st.test_size,
        seed=st.seed,
    )


def frame_predictions(d: FrameData, name: str, scheme: str, st: DecodeSettings) -> OutOfFold:
    """Out-of-fold predictions of the gated decoder ``name`` under ``scheme``.

    The pipeline (``scheme="animal"``) and the decoding analysis call this with the same
    :class:`FrameData` and settings, hence get the same predictions.
    """
    # one BLAS/OpenMP thread: many small fits; threads only contend (and n_jobs=1 is the rule)
    with threadpool_limits(limits=1):
        return cross_validate(
            lambda: st.decoder(name, columns=d.columns), d.X, d.y, _splits(d, scheme, st)
        )


FALLBACK_SHARE = 0.25
"""A trial none of whose response-window frames passed the gate is named by this share of its
window's frames with the largest change (label-free), read by the classifier behind the gate."""


def window_votes(
    labels: np.ndarray,
    predicted: np.ndarray,
    *,
    as_changed: np.ndarray | None = None,
    change_z: np.ndarray | None = None,
) -> np.ndarray:
    """Vote counts of one trial window over ``labels``.

    The frames named an emotion vote with their predictions; frames named ``neutral`` (below a
    decoder's gate, or named so by a decoder with its own neutral class) do not: the window is a
    stimulus trial, and the question is which emotion the face showed (on the real-face
    development data this named 0.633 of the trials where counting the gate's changed frames,
    neutral votes included, named 0.55; ``docs/validation.md``). When no frame is named an
    emotion and ``as_changed`` is given, the :data:`FALLBACK_SHARE` of the window's frames with
    the largest ``change_z`` vote with ``as_changed`` (what the classifier behind the gate calls
    them): a stimulus trial is named by the frames where the face moved most, even when the
    movement stayed below the gate. Nothing about the trial's label selects the frames.
    Without ``as_changed`` such a trial is ``neutral``.

    Parameters
    ----------
    labels : ndarray of str, shape (k,)
        Sorted class names, containing ``neutral``.
    predicted, as_changed, change_z : ndarray, shape (m,)
        The window's frames: prediction, classifier label without the gate, change z-score.

    Returns
    -------
    ndarray of float64, shape (k,)
        Votes per label (``neutral`` = 1 when nothing voted).
    """
    labels = np.asarray(labels, dtype=object).astype(str)
    votes = np.asarray(predicted, dtype=object).astype(str)
    votes = votes[votes != NEUTRAL]
    if len(votes) == 0 and as_changed is not None and len(as_changed):
        k = max(1, int(np.ceil(FALLBACK_SHARE * len(as_changed))))
        top = np.argsort(-np.asarray(change_z, dtype=np.float64), kind="stable")[:k]
        votes = np.asarray(as_changed, dtype=object)[top].astype(str)
    counts = np.array([(votes == c).sum() for c in labels], dtype=np.float64)
    if counts.sum() == 0:
        counts[int(np.flatnonzero(labels == NEUTRAL)[0])] = 1.0
    return counts


def trial_votes(
    cluster: np.ndarray,
    predicted: np.ndarray,
    classes: Sequence,
    *,
    as_changed: np.ndarray | None = None,
    change_z: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each trial named by the emotion most of its frames are named (see :func:`window_votes`).

    Parameters
    ----------
    cluster : ndarray, shape (n,)
        Trial of each response-window frame.
    predicted : ndarray, shape (n,)
        Frame predictions.
    classes : sequence
        Class order for the vote fractions.
    as_changed, change_z : ndarray, shape (n,), optional
        The classifier's label of each frame without the gate and its change z-score: a
        trial with no frame named an emotion is named by its most changed frames.

    Returns
    -------
    trials : ndarray, shape (t,)
        Sorted unique clusters.
    votes : ndarray of float64, shape (t, k)
        Fraction of each trial's votes for each class. The trial's call is the first class
        with the most votes.
    """
    cl = np.asarray(cluster).astype(str)
    uniq, inv = np.unique(cl, return_inverse=True)
    labels = np.asarray(classes, dtype=object).astype(str)
    counts = np.zeros((len(uniq), len(labels)))
    for t in range(len(uniq)):
        m = inv == t
        counts[t] = window_votes(
            labels,
            np.asarray(predicted, dtype=object)[m],
            as_changed=None if as_changed is None else np.asarray(as_changed, dtype=object)[m],
            change_z=None if change_z is None else np.asarray(change_z)[m],
        )
    return uniq, counts / counts.sum(axis=1, keepdims=True)


def as_changed_labels(d: FrameData, oof: OutOfFold) -> np.ndarray | None:
    """Each out-of-fold row's label from its fold's classifier without the gate (None when the
    decoders are not gated)."""
    out = np.empty(len(oof.index), dtype=object)
    for fold, est in oof.estimators.items():
        if not hasattr(est, "predict_changed"):
            return None
        m = oof.fold == fold
        if m.any():
            out[m] = est.predict_changed(d.X[oof.index[m]])
    return out


def level_table(d: FrameData, oof: OutOfFold) -> pd.DataFrame:
    """One row per scored unit and level: fold, level, true, predicted, group, cluster."""
    idx = oof.index
    base = pd.DataFrame(
        {
            "fold": oof.fold,
            "true": d.y[idx].astype(str),
            "predicted": oof.predicted.astype(str),
            "group": d.rows["group"].to_numpy(str)[idx],
            "cluster": d.rows["cluster"].to_numpy(str)[idx],
        }
    )
    ev = ~d.response[idx] | d.changed[idx]
    parts = [base[ev].assign(level="frame"), base.assign(level="frame_all")]
    classes = np.array(sorted(set(oof.classes.astype(str)) | {NEUTRAL}), dtype=object)
    resp = d.response[idx]
    as_changed = as_changed_labels(d, oof)
    for fold in np.unique(oof.fold):
        m = resp & (oof.fold == fold)
        if not m.any():
            continue
        trials, votes = trial_votes(
            base["cluster"][m],
            oof.predicted[m],
            classes,
            as_changed=None if as_changed is None else as_changed[m],
            change_z=d.X[idx, 0][m],
        )
        first = base[m].drop_duplicates("cluster").set_index("cluster").loc[trials]
        parts.append(
            pd.DataFrame(
                {
                    "fold": fold,
                    "true": first["true"].to_numpy(),
                    "predicted": classes[np.argmax(votes, axis=1)].astype(str),
                    "group": first["group"].to_numpy(),
                    "cluster": trials,
                    "level": "trial",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _interval(t, p, c, classes, st: DecodeSettings, seed: int):
    boot = bootstrap_confusion(t, p, c, classes, n_boot=st.n_boot, seed=seed)
    return boot, scores_from_confusion(boot)


def _pooled_rows(key: dict, g: pd.DataFrame, classes, st: DecodeSettings, seed: int):
    t, p, c = g["true"].to_numpy(), g["predicted"].to_numpy(), g["group"].to_numpy()
    sc = scores(t, p, classes)
    boot, bs = _interval(t, p, c, classes, st, seed)
    cm = confusion(t, p, classes)
    rows = []
    for metric in ("accuracy", "balanced_accuracy"):
        lo, hi = percentile_interval(bs[metric], level=st.ci)
        rows.append(
            {
                **key,
                "metric": metric,
                "class": None,
                "value": float(sc[metric]),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "n_test": int(cm.sum()),
            }
        )
    for metric in ("f1", "recall"):
        lo, hi = percentile_interval(bs[metric], level=st.ci)
        for j, cls in enumerate(classes):
            if cm[j].sum() == 0 and cm[:, j].sum() == 0:
                continue
            rows.append(
                {
                    **key,
                    "metric": metric,
                    "class": str(cls),
                    "value": float(sc[metric][j]),
                    "ci_low": float(lo[j]),
                    "ci_high": float(hi[j]),
                    "n_test": int(cm[j].sum()),
                }
            )
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = cm / cm.sum(axis=1, keepdims=True)
        bfrac = boot / boot.sum(axis=2, keepdims=True)
    lo, hi = percentile_interval(bfrac, level=st.ci)
    conf = [
        {
            **key,
            "true": str(ti),
            "predicted": str(pj),
            "count": int(cm[i, j]),
            "fraction": float(frac[i, j]),
            "ci_low": float(lo[i, j]),
            "ci_high": float(hi[i, j]),
        }
        for i, ti in enumerate(classes)
        if cm[i].sum() > 0
        for j, pj in enumerate(classes)
    ]
    return rows, conf, float(sc["balanced_accuracy"])


def decode_frames(
    fs: FrameSet,
    settings: DecodeSettings | None = None,
    *,
    subjects: dict[str, str] | None = None,
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Cross-validate every decoder under every scheme (see module docstring).

    Parameters
    ----------
    fs : FrameSet
        From :func:`mouseface.expression.frameset.build_frame_set`.
    settings : DecodeSettings, optional
    subjects : dict, optional
        session -> subject: the ``animal`` scheme holds out a subject's animals together, and
        intervals and permutations use subjects (default: the animal).

    Returns
    -------
    tables : dict
        ``scores`` (decoder, scheme, level, fold, metric, class, value, ci_low, ci_high,
        n_test), ``confusion`` (decoder, scheme, level, true, predicted, count, fraction,
        ci_low, ci_high), ``null`` (decoder, scheme, level, permutation, balanced_accuracy),
        ``selection`` (per session and class: stimulus-window frames and the changed ones),
        ``predictions`` (decoder, scheme, fold, session, frame, label, predicted: every
        out-of-fold frame prediction).
    notes : list of str
        Schemes or folds that could not run and why.
    """
    st = settings or DecodeSettings()
    d = frame_data(fs, st, subjects=subjects)
    selection = (
        fs.rows.assign(changed=fs.rows["change_z"] > st.threshold)
        .query("window == 'response'")
        .groupby(["session", "animal", "label"], sort=True)["changed"]
        .agg(n_frames="size", n_changed="sum", fraction_changed="mean")
        .reset_index()
        .assign(threshold=st.threshold)
    )
    classes = np.array(sorted(set(d.y)), dtype=object)
    score_rows, conf_rows, null_rows, preds, notes = [], [], [], [], []
    for scheme in st.schemes:
        try:
            _splits(d, scheme, st)
        except InputError as exc:
            notes.append(f"scheme {scheme}: skipped: {exc}")
            continue
        for k, name in enumerate(st.decoders):
            oof = frame_predictions(d, name, scheme, st)
            notes += [f"{name}, {n}" for n in oof.notes]
            if not len(oof.index):
                notes.append(f"{name}, scheme {scheme}: no fold could be fitted")
                continue
            preds.append(
                pd.DataFrame(
                    {
                        "decoder": name,
                        "scheme": scheme,
                        "fold": oof.fold,
                        "session": d.rows["session"].to_numpy(str)[oof.index],
                        "frame": d.rows["frame"].to_numpy()[oof.index],
                        "label": d.y[oof.index].astype(str),
                        "predicted": oof.predicted.astype(str),
                    }
                )
            )
            table = level_table(d, oof)
            for (lev, fold), g in table.groupby(["level", "fold"], sort=True):
                sc = scores(g["true"].to_numpy(), g["predicted"].to_numpy(), classes)
                for metric in ("accuracy", "balanced_accuracy"):
                    score_rows.append(
                        {
                            "decoder": name,
                            "scheme": scheme,
                            "level": lev,
                            "fold": fold,
                            "metric": metric,
                            "class": None,
                            "value": float(sc[metric]),
                            "ci_low": np.nan,
                            "ci_high": np.nan,
                            "n_test": len(g),
                        }
                    )
            for j, lev in enumerate(LEVELS):
                g = table[table["level"] == lev]
                key = {"decoder": name, "scheme": scheme, "level": lev, "fold": "pooled"}
                rows, conf, observed = _pooled_rows(key, g, classes, st, st.seed + 1000 * k + j)
                score_rows += rows
                conf_rows += conf
                if scheme not in st.permutation_schemes or st.n_permutations < 1:
                    continue
                null = permuted_balanced_accuracy(
                    g["true"].to_numpy(),
                    g["predicted"].to_numpy(),
                    g["group"].to_numpy(),
                    classes,
                    n_permutations=st.n_permutations,
                    seed=st.seed + 7 + 31 * k + j,
                )
                null_rows.append(
                    pd.DataFrame(
                        {
                            "decoder": name,
                            "scheme": scheme,
                            "level": lev,
                            "permutation": np.arange(len(null)),
                            "balanced_accuracy": null,
                        }
                    )
                )
                lo, hi = percentile_interval(null, level=st.ci)
                common = {**key, "class": None, "n_test": np.nan}
                score_rows.append(
                    {
                        **common,
                        "metric": "chance_balanced_accuracy",
                        "value": float(np.nanmean(null)),
                        "ci_low": float(lo),
                        "ci_high": float(hi),
                    }
                )
                score_rows.append(
                    {
                        **common,
                        "metric": "p_value",
                        "value": permutation_p_value(observed, null),
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                    }
                )
    if not score_rows:
        raise InputError("no decoder could be cross-validated: " + "; ".join(notes))
    null_cols = ["decoder", "scheme", "level", "permutation", "balanced_accuracy"]
    tables = {
        "scores": pd.DataFrame(score_rows),
        "confusion": pd.DataFrame(conf_rows),
        "null": pd.concat(null_rows, ignore_index=True)
        if null_rows
        else pd.DataFrame(columns=null_cols),
        "selection": selection,
        "predictions": pd.concat(preds, ignore_index=True),
    }
    return tables, notes


def summary_numbers(scores_table: pd.DataFrame, *, decoders: Sequence[str]) -> dict[str, float]:
    """Headline numbers for ``summary.json`` and the CLI.

    Per decoder: the frame-level balanced accuracy of every scheme with its interval; for the
    schemes with a permutation test, also its chance level and p-value, and the balanced
    accuracy of all frames and of trials.
    """
    out: dict[str, float] = {}
    s = scores_table
    pooled = s[(s["fold"] == "pooled") & s["class"].isna()]
    tested = set(pooled.loc[pooled["metric"] == "p_value", "scheme"])
    for _, r in pooled.iterrows():
        dec, scheme, lev, metric = r["decoder"], r["scheme"], r["level"], r["metric"]
        if dec not in decoders or metric == "accuracy":
            continue
        k = f"{dec}.{scheme}.{lev}.{metric}"
        if lev in ("frame", "frame_all") and metric == "balanced_accuracy":
            out |= {k: r["value"], k + "_low": r["ci_low"], k + "_high": r["ci_high"]}
        elif scheme in tested and (lev == "frame" or metric == "balanced_accuracy"):
            out[k.replace("chance_balanced_accuracy", "chance")] = r["value"]
    return {k: float(v) for k, v in out.items()}
