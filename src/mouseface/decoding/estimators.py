"""Emotion decoders (scikit-learn estimators) and cross-validation by animal.

- :class:`PrototypeClassifier`: nearest prototype by Pearson correlation (the paper's readout as a
  classifier): one prototype per class, the mean of its training rows.
- ``make_decoder("forest")``: PCA-reduced HOG -> random forest; ``"linear"``: standardised PCA ->
  multinomial logistic regression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from mouseface.errors import InputError
from mouseface.expression.prototypes import pearson_matrix

__all__ = [
    "PrototypeClassifier",
    "make_decoder",
    "DECODERS",
    "cross_validate_by_group",
    "balanced_accuracy",
]

DECODERS = ("prototype", "forest", "linear")


class PrototypeClassifier(ClassifierMixin, BaseEstimator):
    """Nearest-prototype classifier on Pearson correlation.

    Parameters
    ----------
    temperature : float
        Softmax temperature turning correlations into probabilities
        (``p ~ exp(r / temperature)``).

    Attributes
    ----------
    classes_ : ndarray, shape (k,)
    prototypes_ : ndarray, shape (k, d)
        Mean training row of each class.
    n_features_in_ : int
    """

    def __init__(self, *, temperature: float = 0.02) -> None:
        self.temperature = temperature

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        # Pearson r of 2-feature vectors is always +-1: sklearn's toy 2-D datasets are
        # meaningless for a correlation classifier (HOG has hundreds of features)
        tags.classifier_tags.poor_score = True
        return tags

    def fit(self, X: np.ndarray, y: np.ndarray) -> PrototypeClassifier:
        """Learn one prototype per class: the mean of that class's rows of ``X`` (n, d)."""
        X, y = validate_data(self, X, y)
        self.classes_ = unique_labels(y)
        self.prototypes_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def _r(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        r = pearson_matrix(X, self.prototypes_)
        return np.nan_to_num(r, nan=-1.0)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Pearson r of each row with each class prototype, shape (n, k) (or (n,) for 2 classes)."""
        r = self._r(X)
        return r[:, 1] - r[:, 0] if r.shape[1] == 2 else r

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Softmax of the correlations, shape (n, k)."""
        z = self._r(X) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class of the most correlated prototype, shape (n,)."""
        r = self._r(X)
        return self.classes_[np.argmax(r, axis=1)]


def make_decoder(name: str, *, n_components: int = 30, random_state: int = 0) -> BaseEstimator:
    """Build a decoder by name: ``prototype``, ``forest`` or ``linear``."""
    if name == "prototype":
        return PrototypeClassifier()
    if name == "forest":
        return Pipeline(
            [
                ("pca", PCA(n_components=n_components, random_state=random_state)),
                (
                    "rf",
                    RandomForestClassifier(
                        n_estimators=200, min_samples_leaf=2, n_jobs=1, random_state=random_state
                    ),
                ),
            ]
        )
    if name == "linear":
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("pca", PCA(n_components=n_components, random_state=random_state)),
                ("lr", LogisticRegression(C=0.1, max_iter=2000)),
            ]
        )
    raise InputError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true`` (no warning for unseen predictions)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]))


def _fit_components(est: BaseEstimator, X: np.ndarray) -> BaseEstimator:
    """Clip a pipeline's PCA size to what the training data allow."""
    if isinstance(est, Pipeline) and "pca" in est.named_steps:
        k = min(est.named_steps["pca"].n_components, X.shape[0] - 1, X.shape[1])
        est.set_params(pca__n_components=max(1, k))
    return est


def cross_validate_by_group(
    make: callable,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    what: str = "animal",
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Leave-one-group-out cross-validation (e.g. leave one animal out).

    Parameters
    ----------
    make : callable
        ``make() -> estimator``, a fresh unfitted estimator per fold.
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
        Class labels.
    groups : ndarray, shape (n,)
        Group of each row (animal id); each fold holds one group out.
    what : str
        Name of the grouping, for messages.

    Returns
    -------
    scores : DataFrame
        One row per fold: fold, held_out, n_train, n_test, accuracy, balanced_accuracy.
    predicted : ndarray, shape (n,)
        Out-of-fold predictions.
    proba : ndarray, shape (n, k)
        Out-of-fold class probabilities (columns in ``classes`` order; NaN for classes a fold
        never saw).
    classes : ndarray, shape (k,)
    """
    X = np.asarray(X)
    y = np.asarray(y)
    groups = np.asarray(groups)
    uniq = np.unique(groups)
    if len(uniq) < 2:
        raise InputError(
            f"cross-validation by {what} needs at least 2 {what}s, got "
            f"{len(uniq)} ({', '.join(map(str, uniq))}); add sessions of another {what}"
        )
    classes = np.unique(y)
    if len(classes) < 2:
        raise InputError(f"decoding needs at least 2 classes, got only {classes.tolist()}")
    predicted = np.empty(len(y), dtype=object)
    proba = np.full((len(y), len(classes)), np.nan)
    rows = []
    for fold, (tr, te) in enumerate(LeaveOneGroupOut().split(X, y, groups)):
        if len(np.unique(y[tr])) < 2:
            continue
        est = _fit_components(make(), X[tr])
        est.fit(X[tr], y[tr])
        predicted[te] = est.predict(X[te])
        cols = np.searchsorted(classes, est.classes_)
        proba[np.ix_(te, cols)] = est.predict_proba(X[te])
        rows.append(
            {
                "fold": fold,
                "held_out": str(groups[te][0]),
                "n_train": len(tr),
                "n_test": len(te),
                "accuracy": float(np.mean(predicted[te] == y[te])),
                "balanced_accuracy": balanced_accuracy(y[te], predicted[te]),
            }
        )
    return pd.DataFrame(rows), predicted, proba, classes
