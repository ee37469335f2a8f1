"""Trial features and the strong-versus-no-stimulus decoder of the intensity analysis.

Features of a trial come only from its own frames and its session's baseline (no statistic is
pooled across animals before the split), so leaving one animal out leaks nothing about it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mouseface.errors import InputError

__all__ = ["trial_features", "strong_none_labels", "leave_one_group_out_scores"]


def trial_features(
    times: np.ndarray,
    series: Mapping[str, np.ndarray],
    good: np.ndarray,
    onset: float,
    *,
    baseline: tuple[float, float],
    response: tuple[float, float],
    n_bins: int = 4,
) -> dict[str, float]:
    """Scalar features of one trial, each relative to the trial's own baseline.

    For every per-frame series ``x`` (e.g. ``change``, ``motion``, the amplitude readout):
    ``x_mean`` (response-window mean minus baseline mean), ``x_peak`` (maximum of a 3-frame
    running mean in the response window minus the baseline mean) and ``x_t<k>`` (mean of the
    k-th of ``n_bins`` equal parts of the response window minus the baseline mean: the time
    course).

    Parameters
    ----------
    times : ndarray, shape (n,)
        Frame times of the session, s.
    series : mapping of str to ndarray, shape (n,)
        Per-frame series.
    good : ndarray of bool, shape (n,)
        Frames without a quality flag (used when a window has any).
    onset : float
        Stimulus onset, s.
    baseline, response : (float, float)
        Windows relative to the onset, s.
    n_bins : int
        Parts of the response window in the time course.

    Returns
    -------
    dict of str to float
    """
    times = np.asarray(times, dtype=np.float64)
    b = (times >= onset + baseline[0]) & (times < onset + baseline[1])
    r = (times >= onset + response[0]) & (times < onset + response[1])
    edges = onset + np.linspace(response[0], response[1], n_bins + 1)
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, x in series.items():
            x = np.asarray(x, dtype=np.float64)
            use = np.isfinite(x) & good
            bsel = b & use if (b & use).any() else b & np.isfinite(x)
            base = float(np.mean(x[bsel])) if bsel.any() else float("nan")
            rsel = r & use if (r & use).any() else r & np.isfinite(x)
            xr = x[rsel]
            out[f"{name}_mean"] = float(np.mean(xr)) - base if xr.size else float("nan")
            k = min(3, xr.size)
            run = np.convolve(xr, np.ones(k) / k, mode="valid") if k else xr
            out[f"{name}_peak"] = float(np.max(run)) - base if run.size else float("nan")
            for j in range(n_bins):
                m = rsel & (times >= edges[j]) & (times < edges[j + 1])
                out[f"{name}_t{j + 1}"] = float(np.mean(x[m])) - base if m.any() else float("nan")
    return out


def strong_none_labels(
    intensity: np.ndarray, *, strong_min: float, none_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which trials are "strong" (intensity >= strong_min) and which "none" (<= none_max).

    Returns
    -------
    use : ndarray of bool, shape (n,)
        Trials in one of the two classes.
    strong : ndarray of bool, shape (n,)
        True for strong trials (meaningful where ``use``).
    """
    if not strong_min > none_max:
        raise InputError(f"strong_min ({strong_min}) must be greater than none_max ({none_max})")
    x = np.asarray(intensity, dtype=np.float64)
    strong = np.isfinite(x) & (x >= strong_min)
    none = np.isfinite(x) & (x <= none_max)
    return strong | none, strong


def leave_one_group_out_scores(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    train: np.ndarray | None = None,
    C: float = 0.1,  # noqa: N803
    fold_features: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Out-of-fold decision scores of a logistic regression, one group (animal) held out.

    Features are standardised on the training animals of each fold only; non-finite feature
    values are replaced by the training median.

    Parameters
    ----------
    X : ndarray, shape (n, k)
    y : ndarray of bool, shape (n,)
        Class of each trial (True = strong); only read where ``train``.
    groups : ndarray, shape (n,)
        Animal of each trial.
    train : ndarray of bool, shape (n,), optional
        Trials a fold may train on (e.g. strong and no-stimulus ones); every trial of the
        held-out animal is scored, so intermediate intensities get a score too. Default all.
    C : float
        Inverse L2 regularisation strength.
    fold_features : mapping of str to ndarray, shape (n, k), optional
        Features of every trial as the fold holding out that group computes them (e.g. from a
        prototype built without the held-out animal); default ``X`` for every fold.

    Returns
    -------
    scores : ndarray, shape (n,)
        Decision function of the fold in which each trial was held out.
    folds : DataFrame
        One row per held-out group: held_out, n_train, n_strong, n_none (its trials of each
        class).

    Raises
    ------
    InputError
        Fewer than 2 groups, or a fold whose training animals lack one of the classes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(bool)
    groups = np.asarray(groups).astype(str)
    train = np.ones(len(y), dtype=bool) if train is None else np.asarray(train, dtype=bool)
    names = np.unique(groups[train])
    if len(names) < 2:
        raise InputError(
            f"leave-one-animal-out decoding needs trials of at least 2 animals, got {len(names)}"
        )
    scores = np.full(len(y), np.nan)
    rows = []
    for g in names:
        te = groups == g
        tr = ~te & train
        Xg = np.asarray((fold_features or {}).get(str(g), X), dtype=np.float64)
        if y[tr].all() or not y[tr].any():
            raise InputError(
                f"holding out animal {g} leaves training trials of one class only; every "
                "other animal needs both strong and no-stimulus trials"
            )
        med = np.nanmedian(np.where(np.isfinite(Xg[tr]), Xg[tr], np.nan), axis=0)
        med = np.where(np.isfinite(med), med, 0.0)
        Xtr = np.where(np.isfinite(Xg[tr]), Xg[tr], med)
        Xte = np.where(np.isfinite(Xg[te]), Xg[te], med)
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(Xtr, y[tr])
            scores[te] = clf.decision_function(Xte)
        rows.append(
            {
                "held_out": g,
                "n_train": int(tr.sum()),
                "n_strong": int((y & te & train).sum()),
                "n_none": int((~y & te & train).sum()),
            }
        )
    return scores, pd.DataFrame(rows)
