"""The nearest-prototype classifier (the paper's readout as a scikit-learn estimator).

- :class:`PrototypeClassifier`: nearest prototype by Pearson correlation: one prototype per
  class, the mean of its training rows (or given, e.g. a library's prototype directions).
- :func:`clip_components`: fit a pipeline's PCA to a small training set.

The other decoders and the factory that builds every decoder: :mod:`mouseface.decoding.factory`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from mouseface.expression.prototypes import pearson_matrix

__all__ = ["PrototypeClassifier", "clip_components"]


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

    @classmethod
    def from_prototypes(
        cls, classes: np.ndarray, prototypes: np.ndarray, *, temperature: float = 0.02
    ) -> PrototypeClassifier:
        """A fitted classifier whose prototypes are given (no training rows).

        Parameters
        ----------
        classes : ndarray, shape (k,)
            Class labels (sorted order is not required).
        prototypes : ndarray, shape (k, d)
            One prototype per class, in the feature space of the rows to classify.
        temperature : float
        """
        est = cls(temperature=temperature)
        P = np.asarray(prototypes, dtype=np.float64)
        if P.ndim != 2 or len(P) != len(classes):
            raise ValueError(f"prototypes must be (k, d) for {len(classes)} classes, got {P.shape}")
        est.classes_ = np.asarray(classes, dtype=object)
        est.prototypes_ = P
        est.n_features_in_ = P.shape[1]
        return est

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


def clip_components(est: BaseEstimator, n_rows: int, n_features: int) -> BaseEstimator:
    """Fit a pipeline's sizes to ``n_rows`` training rows of ``n_features``.

    Returns the same estimator: its ``pca__n_components`` set to at most ``n_rows - 1`` and
    ``n_features`` (those a leading column selection keeps), and a random forest's fractional
    ``rf__max_samples`` turned into the same number of rows (at least 1), which scikit-learn
    accepts without its small-sample warning when a fold has only a few frames above the gate.
    Other estimators are returned unchanged.
    """
    if isinstance(est, Pipeline) and isinstance(est.steps[0][1], ColumnTransformer):
        kept = [c for _, _, c in est.steps[0][1].transformers if isinstance(c, slice)]
        n_features = sum(len(range(n_features)[c]) for c in kept) or n_features
    if isinstance(est, Pipeline) and "pca" in est.named_steps:
        k = min(est.named_steps["pca"].n_components, n_rows - 1, n_features)
        est.set_params(pca__n_components=max(1, k))
    if isinstance(est, Pipeline) and "rf" in est.named_steps:
        frac = est.named_steps["rf"].max_samples
        if isinstance(frac, float):
            est.set_params(rf__max_samples=max(1, int(frac * n_rows)))
    return est
