"""Cross-validated frame decoding with intervals and permutation chance (private).

:func:`decode_frames` runs every decoder under every cross-validation scheme on a
:class:`~mouseface.expression.frameset.FrameSet` and returns tidy tables. Three evaluation
levels come from the same out-of-fold predictions:

- ``frame``: baseline frames (true class ``neutral``) and the stimulus-window frames in which
  the face has changed (``change_z > threshold``; the rule uses no labels);
- ``frame_all``: every baseline and stimulus-window frame (a stimulus-window frame below the
  gate is predicted ``neutral`` and counts as an error): what the decoder does on all frames;
- ``trial``: each trial's response window, named by the majority of its changed frames
  (``neutral`` when none changed).

Intervals: percentile intervals of a cluster bootstrap over trials (a trial's baseline and
response frames are resampled together) of the pooled out-of-fold predictions. Chance: the
decoder refitted on labels permuted within each animal (``n_permutations`` times), same
scheme, same evaluation; the p-value is ``(1 + #null >= observed) / (1 + n)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from mouseface.decoding.gated import ChangeGatedClassifier, make_frame_decoder
from mouseface.decoding.metrics import bootstrap_confusion, confusion, scores_from_confusion
from mouseface.decoding.splits import cv_splits
from mouseface.errors import InputError
from mouseface.expression.frameset import NEUTRAL, FrameSet, cap_per_group
from mouseface.stats.bootstrap import percentile_interval
from mouseface.stats.permutation import permutation_p_value, permute_within

__all__ = ["DecodeSettings", "decode_frames", "LEVELS"]

LEVELS = ("frame", "frame_all", "trial")


@dataclass(frozen=True)
class DecodeSettings:
    """Options of :func:`decode_frames` (see the decoding analysis for their meaning)."""

    decoders: tuple[str, ...] = ("prototype", "forest", "linear")
    schemes: tuple[str, ...] = ("animal", "session", "random")
    threshold: float = 5.0
    max_frames: int = 120
    n_boot: int = 200
    n_permutations: int = 10
    permutation_schemes: tuple[str, ...] = ("animal",)
    n_splits: int = 5
    test_size: float = 0.25
    ci: float = 0.95
    seed: int = 0


@dataclass
class _Data:
    X: np.ndarray
    y: np.ndarray
    animal: np.ndarray
    session: np.ndarray
    cluster: np.ndarray
    response: np.ndarray
    changed: np.ndarray


def _prepare(fs: FrameSet, st: DecodeSettings) -> tuple[_Data, pd.DataFrame]:
    r = fs.rows
    keys = (r["session"].astype(str) + "|" + r["label"].astype(str)).to_numpy()
    keep = cap_per_group(keys, max_per_group=st.max_frames, seed=st.seed)
    r = r.iloc[keep].reset_index(drop=True)
    X = np.hstack([r["change_z"].to_numpy(np.float64)[:, None], fs.X[keep].astype(np.float64)])
    response = (r["window"] == "response").to_numpy()
    changed = r["change_z"].to_numpy() > st.threshold
    data = _Data(
        X=X,
        y=r["label"].to_numpy(object),
        animal=r["animal"].to_numpy(str),
        session=r["session"].to_numpy(str),
        cluster=r["cluster"].to_numpy(str),
        response=response,
        changed=changed,
    )
    sel = (
        fs.rows.assign(changed=fs.rows["change_z"] > st.threshold)
        .query("window == 'response'")
        .groupby(["session", "animal", "label"], sort=True)["changed"]
        .agg(n_frames="size", n_changed="sum", fraction_changed="mean")
        .reset_index()
        .assign(threshold=st.threshold)
    )
    emotions = sorted(set(data.y[response]))
    if not emotions:
        raise InputError("no stimulus-window frame to decode: check the trials and windows")
    dead = [e for e in emotions if not (changed & response & (data.y == e)).any()]
    if dead:
        raise InputError(
            f"class(es) {', '.join(dead)} have no stimulus-window frame whose change z-score "
            f"exceeds {st.threshold:g}: the face did not change in those trials; lower "
            "analyses.decoding.change_threshold or drop those trials"
        )
    if not (data.y == NEUTRAL).any():
        raise InputError("no baseline frame: the neutral class has no frames")
    return data, sel


def _fit_predict(d: _Data, y_train: np.ndarray, splits, name: str, st: DecodeSettings, notes):
    """Out-of-fold predictions: list of (fold, test indices, predicted)."""
    out = []
    for sp in splits:
        est = ChangeGatedClassifier(
            make_frame_decoder(name, random_state=st.seed), threshold=st.threshold
        )
        try:
            est.fit(d.X[sp.train], y_train[sp.train])
        except InputError as exc:
            if notes is not None:
                notes.append(f"{name}, fold {sp.fold}: skipped: {exc}")
            continue
        out.append((sp.fold, sp.test, est.predict(d.X[sp.test])))
    return out


def _trial_votes(d: _Data, test: np.ndarray, pred: np.ndarray):
    """Per response window of the test rows: (true, predicted, cluster)."""
    t, p, c = [], [], []
    resp = d.response[test]
    for cl in np.unique(d.cluster[test][resp]):
        m = resp & (d.cluster[test] == cl)
        votes = pred[m & d.changed[test]]
        if votes.size:
            vals, counts = np.unique(votes.astype(str), return_counts=True)
            p.append(vals[np.argmax(counts)])
        else:
            p.append(NEUTRAL)
        t.append(d.y[test][m][0])
        c.append(cl)
    return np.array(t, dtype=object), np.array(p, dtype=object), np.array(c, dtype=object)


def _levels(d: _Data, test: np.ndarray, pred: np.ndarray) -> dict[str, tuple]:
    """level -> (true, predicted, clusters) of these test rows."""
    y, cl = d.y[test], d.cluster[test]
    ev = ~d.response[test] | d.changed[test]
    return {
        "frame": (y[ev], pred[ev], cl[ev]),
        "frame_all": (y, pred, cl),
        "trial": _trial_votes(d, test, pred),
    }


def _pooled(preds, d: _Data) -> dict[str, tuple]:
    parts: dict[str, list] = {lev: [[], [], []] for lev in LEVELS}
    for fold, test, pred in preds:
        for lev, (t, p, c) in _levels(d, test, pred).items():
            parts[lev][0].append(t)
            parts[lev][1].append(p)
            parts[lev][2].append(np.array([f"{fold}/{x}" for x in c], dtype=object))
    return {
        lev: tuple(np.concatenate(x) if x else np.array([]) for x in v) for lev, v in parts.items()
    }


def _score_rows(key: dict, t, p, c, classes, st: DecodeSettings, seed: int):
    cm = confusion(t, p, classes)
    sc = scores_from_confusion(cm)
    boot = scores_from_confusion(bootstrap_confusion(t, p, c, classes, n_boot=st.n_boot, seed=seed))
    rows = []
    for metric in ("accuracy", "balanced_accuracy"):
        lo, hi = percentile_interval(boot[metric], level=st.ci)
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
        lo, hi = percentile_interval(boot[metric], level=st.ci)
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
    return rows, cm, boot


def _confusion_rows(key: dict, cm: np.ndarray, t, p, c, classes, st: DecodeSettings, seed: int):
    boot = bootstrap_confusion(t, p, c, classes, n_boot=st.n_boot, seed=seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = cm / cm.sum(axis=1, keepdims=True)
        bfrac = boot / boot.sum(axis=2, keepdims=True)
    lo, hi = percentile_interval(bfrac, level=st.ci)
    rows = []
    for i, ti in enumerate(classes):
        if cm[i].sum() == 0:
            continue
        for j, pj in enumerate(classes):
            rows.append(
                {
                    **key,
                    "true": str(ti),
                    "predicted": str(pj),
                    "count": int(cm[i, j]),
                    "fraction": float(frac[i, j]),
                    "ci_low": float(lo[i, j]),
                    "ci_high": float(hi[i, j]),
                }
            )
    return rows


def _ba(pooled: dict[str, tuple], classes) -> dict[str, float]:
    return {
        lev: float(scores_from_confusion(confusion(t, p, classes))["balanced_accuracy"])
        for lev, (t, p, _) in pooled.items()
    }


def decode_frames(
    fs: FrameSet, settings: DecodeSettings | None = None
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Cross-validate every decoder under every scheme (see module docstring).

    Parameters
    ----------
    fs : FrameSet
        From :func:`mouseface.expression.frameset.build_frame_set`.
    settings : DecodeSettings, optional

    Returns
    -------
    tables : dict
        ``scores`` (decoder, scheme, level, fold, metric, class, value, ci_low, ci_high,
        n_test), ``confusion`` (decoder, scheme, level, true, predicted, count, fraction,
        ci_low, ci_high), ``null`` (decoder, scheme, level, permutation, balanced_accuracy),
        ``selection`` (per session and class: stimulus-window frames and the changed ones).
    notes : list of str
        Schemes or folds that could not run and why.
    """
    st = settings or DecodeSettings()
    # one BLAS/OpenMP thread: many small fits; threads only contend (and n_jobs=1 is the rule)
    with threadpool_limits(limits=1):
        return _decode(fs, st)


def _decode(fs: FrameSet, st: DecodeSettings) -> tuple[dict[str, pd.DataFrame], list[str]]:
    d, selection = _prepare(fs, st)
    classes = np.array(sorted(set(d.y)), dtype=object)
    scores, confusions, nulls, notes = [], [], [], []
    for scheme in st.schemes:
        try:
            splits = cv_splits(
                scheme,
                animals=d.animal,
                sessions=d.session,
                clusters=d.cluster,
                n_splits=st.n_splits,
                test_size=st.test_size,
                seed=st.seed,
            )
        except InputError as exc:
            notes.append(f"scheme {scheme}: skipped: {exc}")
            continue
        for k, name in enumerate(st.decoders):
            preds = _fit_predict(d, d.y, splits, name, st, notes)
            if not preds:
                notes.append(f"{name}, scheme {scheme}: no fold could be fitted")
                continue
            for fold, test, pred in preds:
                for lev, (t, p, _) in _levels(d, test, pred).items():
                    sc = scores_from_confusion(confusion(t, p, classes))
                    for metric in ("accuracy", "balanced_accuracy"):
                        scores.append(
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
                                "n_test": len(t),
                            }
                        )
            pooled = _pooled(preds, d)
            for j, (lev, (t, p, c)) in enumerate(pooled.items()):
                key = {"decoder": name, "scheme": scheme, "level": lev, "fold": "pooled"}
                seed = st.seed + 1000 * k + j
                rows, cm, _ = _score_rows(key, t, p, c, classes, st, seed)
                scores += rows
                confusions += _confusion_rows(key, cm, t, p, c, classes, st, seed)
            if scheme in st.permutation_schemes and st.n_permutations > 0:
                observed = _ba(pooled, classes)
                rng = np.random.default_rng(st.seed + 7 + k)
                null: dict[str, list[float]] = {lev: [] for lev in LEVELS}
                for i in range(st.n_permutations):
                    yp = permute_within(d.y, d.animal, rng)
                    pp = _fit_predict(d, yp, splits, name, st, None)
                    ba = _ba(_pooled(pp, d), classes) if pp else dict.fromkeys(LEVELS, np.nan)
                    for lev in LEVELS:
                        null[lev].append(ba[lev])
                        nulls.append(
                            {
                                "decoder": name,
                                "scheme": scheme,
                                "level": lev,
                                "permutation": i,
                                "balanced_accuracy": ba[lev],
                            }
                        )
                for lev in LEVELS:
                    v = np.asarray(null[lev], dtype=float)
                    lo, hi = percentile_interval(v, level=st.ci)
                    key = {
                        "decoder": name,
                        "scheme": scheme,
                        "level": lev,
                        "fold": "pooled",
                        "class": None,
                        "n_test": np.nan,
                    }
                    scores.append(
                        {
                            **key,
                            "metric": "chance_balanced_accuracy",
                            "value": float(np.nanmean(v)) if np.isfinite(v).any() else np.nan,
                            "ci_low": float(lo),
                            "ci_high": float(hi),
                        }
                    )
                    scores.append(
                        {
                            **key,
                            "metric": "p_value",
                            "value": permutation_p_value(observed[lev], v),
                            "ci_low": np.nan,
                            "ci_high": np.nan,
                        }
                    )
    if not scores:
        raise InputError("no decoder could be cross-validated: " + "; ".join(notes))
    tables = {
        "scores": pd.DataFrame(scores),
        "confusion": pd.DataFrame(confusions),
        "null": pd.DataFrame(
            nulls, columns=["decoder", "scheme", "level", "permutation", "balanced_accuracy"]
        ),
        "selection": selection,
    }
    return tables, notes


def summary_numbers(scores: pd.DataFrame, *, decoders: Sequence[str]) -> dict[str, float]:
    """Headline numbers for ``summary.json`` and the CLI.

    Per decoder: the frame-level balanced accuracy of every scheme with its interval; for the
    schemes with a permutation test, also its chance level and p-value, and the balanced
    accuracy of all frames and of trials.
    """
    out: dict[str, float] = {}
    pooled = scores[(scores["fold"] == "pooled") & scores["class"].isna()]
    tested = set(pooled.loc[pooled["metric"] == "p_value", "scheme"])
    for _, r in pooled.iterrows():
        dec, scheme, lev, metric = r["decoder"], r["scheme"], r["level"], r["metric"]
        if dec not in decoders or metric == "accuracy":
            continue
        k = f"{dec}.{scheme}.{lev}.{metric}"
        if lev == "frame" and metric == "balanced_accuracy":
            out |= {k: r["value"], k + "_low": r["ci_low"], k + "_high": r["ci_high"]}
        elif scheme in tested and (lev == "frame" or metric == "balanced_accuracy"):
            out[k.replace("chance_balanced_accuracy", "chance")] = r["value"]
    return {k: float(v) for k, v in out.items()}
