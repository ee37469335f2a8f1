"""Population decoding of the trial's emotion from neurons, and agreement with the face decoder.

The decoder is a scikit-learn pipeline (standardise, then multinomial logistic regression);
cross-validation holds out whole trials (stratified K-fold), or whole sessions when trials come
from several (``LeaveOneGroupOut``); chance comes from refitting on permuted labels
(:func:`sklearn.model_selection.permutation_test_score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score
from sklearn.model_selection import (
    BaseCrossValidator,
    LeaveOneGroupOut,
    StratifiedKFold,
    cross_val_predict,
    permutation_test_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mouseface.errors import InputError

__all__ = ["NeuralDecoding", "neural_decoder", "decode_emotion", "Agreement", "agreement"]


def neural_decoder(*, C: float = 0.1) -> BaseEstimator:
    """The population decoder: StandardScaler + LogisticRegression (L2, ``C``)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


@dataclass(frozen=True, eq=False)
class NeuralDecoding:
    """Cross-validated decoding of the trial's emotion from neural responses.

    Attributes
    ----------
    balanced_accuracy : float
        Of the cross-validated predictions.
    chance : float
        Mean balanced accuracy over the label permutations.
    chance_high : float
        95th percentile of the permutation scores.
    p : float
        Permutation p-value, ``(1 + #{perm >= score}) / (1 + n_permutations)``.
    predicted : numpy.ndarray
        ``(n_trials,)`` object array: each trial's prediction when it was held out.
    labels : numpy.ndarray
        ``(n_trials,)`` object array of the true emotions.
    cv : str
        The splitter used (e.g. ``"StratifiedKFold(5)"`` or ``"LeaveOneGroupOut"``).
    n_permutations : int
    """

    balanced_accuracy: float
    chance: float
    chance_high: float
    p: float
    predicted: np.ndarray
    labels: np.ndarray
    cv: str
    n_permutations: int


def _splitter(y: np.ndarray, groups: np.ndarray | None, n_splits: int) -> BaseCrossValidator:
    if groups is not None and len(np.unique(groups)) >= 2:
        return LeaveOneGroupOut()
    _, counts = np.unique(y, return_counts=True)
    k = int(min(n_splits, counts.min()))
    if k < 2:
        raise InputError(
            "neural decoding needs >= 2 trials of every emotion (cross-validation by trial); "
            f"the rarest emotion has {int(counts.min())}: add trials or drop that emotion"
        )
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=0)


def decode_emotion(
    responses: np.ndarray,
    labels: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    n_splits: int = 5,
    n_permutations: int = 100,
    estimator: BaseEstimator | None = None,
    seed: int = 0,
) -> NeuralDecoding:
    """Decode each trial's emotion from the population's trial responses.

    Parameters
    ----------
    responses : numpy.ndarray
        ``(n_trials, n_neurons)`` per-trial responses (:func:`~mouseface.neural.responses.
        trial_responses`); trials with any NaN are dropped.
    labels : sequence of str
        ``(n_trials,)`` emotion of each trial.
    groups : sequence of str or None, optional
        Session of each trial: with >= 2 sessions the folds leave one session out (the
        neurons must then be the same features in every session, e.g. matched ROIs).
    n_splits : int, optional
        Folds of the stratified K-fold by trial (default 5, fewer if an emotion is rare).
    n_permutations : int, optional
        Label permutations for chance (default 100).
    estimator : sklearn estimator or None, optional
        Default :func:`neural_decoder`.
    seed : int, optional
        Random state of the permutations.

    Returns
    -------
    NeuralDecoding
    """
    X = np.asarray(responses, dtype=np.float64)
    y = np.asarray(labels, dtype=object)
    if X.ndim != 2 or X.shape[0] != len(y):
        raise InputError(f"decode_emotion: responses {X.shape} need one row per label ({len(y)})")
    ok = np.all(np.isfinite(X), axis=1)
    X, y = X[ok], y[ok].astype(str)
    g = None if groups is None else np.asarray(groups, dtype=object)[ok].astype(str)
    if len(np.unique(y)) < 2:
        raise InputError("neural decoding needs trials of at least two emotions")
    est = estimator if estimator is not None else neural_decoder()
    cv = _splitter(y, g, n_splits)
    # one BLAS/OpenMP thread: hundreds of small refits (trials x neurons), where a second thread
    # only spins against a busy core (20x slower on a loaded 2-core machine)
    with threadpool_limits(limits=1):
        pred = cross_val_predict(est, X, y, groups=g, cv=cv)
        score, perm, _ = permutation_test_score(
            est,
            X,
            y,
            groups=g,
            cv=cv,
            n_permutations=n_permutations,
            scoring="balanced_accuracy",
            random_state=seed,
        )
    p = (1.0 + np.sum(perm >= score)) / (1.0 + len(perm))
    full_pred = np.full(len(ok), None, dtype=object)
    full_pred[ok] = pred
    full_y = np.asarray(labels, dtype=object)
    name = type(cv).__name__ + (f"({cv.get_n_splits()})" if isinstance(cv, StratifiedKFold) else "")
    return NeuralDecoding(
        balanced_accuracy=float(balanced_accuracy_score(y, pred)),
        chance=float(np.mean(perm)),
        chance_high=float(np.percentile(perm, 95)),
        p=float(p),
        predicted=full_pred,
        labels=full_y,
        cv=name,
        n_permutations=int(n_permutations),
    )


@dataclass(frozen=True)
class Agreement:
    """Trial-by-trial agreement of two decoders.

    Attributes
    ----------
    fraction : float
        Fraction of trials where both name the same emotion.
    kappa : float
        Cohen's kappa (agreement beyond chance; :func:`sklearn.metrics.cohen_kappa_score`).
    n_trials : int
        Trials with a prediction from both.
    """

    fraction: float
    kappa: float
    n_trials: int


def agreement(face: Sequence[object], neural: Sequence[object]) -> Agreement:
    """Agreement of the face decoder's and the neural decoder's trial predictions.

    Parameters
    ----------
    face, neural : sequence
        ``(n_trials,)`` predicted emotion per trial (None/NaN = no prediction; skipped).
    """
    a = np.asarray(face, dtype=object)
    b = np.asarray(neural, dtype=object)
    if a.shape != b.shape:
        raise InputError("agreement: one face and one neural prediction per trial are needed")

    def valid(v: np.ndarray) -> np.ndarray:
        return np.array([x is not None and not (isinstance(x, float) and np.isnan(x)) for x in v])

    ok = valid(a) & valid(b) if a.size else np.zeros(0, bool)
    if not ok.any():
        return Agreement(float("nan"), float("nan"), 0)
    a, b = a[ok].astype(str), b[ok].astype(str)
    kappa = float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else float("nan")
    return Agreement(float(np.mean(a == b)), kappa, int(ok.sum()))
