"""The one factory of emotion decoders: every caller (pipeline, analyses, library) builds here.

:func:`make_decoder` builds ``prototype``, ``forest``, ``linear`` or ``logistic``, optionally
behind the neutral gate (:class:`~mouseface.decoding.gated.ChangeGatedClassifier`):

- ``prototype``: :class:`~mouseface.decoding.estimators.PrototypeClassifier` (nearest class mean
  by Pearson r) on ``HOG - neutral``;
- ``forest``: PCA (20 components) then a random forest (50 trees, each grown on a bootstrap half
  of the frames, leaves of >= 2 frames: as accurate as 100-300 full trees here, 3x faster);
- ``linear``: PCA (20 components), then multinomial logistic regression (C = 1) on the PCA scores
  as they are. Standardising the scores blows up the low-variance components, which do not carry
  over to an unseen animal: on one synthetic data set (``mouseface synth --licl-tail 360``, seed
  0) a held-out animal fell to 0.70 balanced accuracy with them standardised and reads 0.93
  without.
- ``logistic``: the cell flow's columns only (every column when the run has no flow), each
  standardised, PCA (50 components), then multinomial logistic regression with a strong L2
  penalty (C = 0.01). The flow (:mod:`mouseface.features.flow`, the head's own movement
  removed) moves in proportion to the face's movement; on the real-face development data HOG
  beside it lowered this readout (0.525 -> 0.413 of the truth-chosen frames of unseen mice,
  ``docs/scripts/flow_readout.py``). Chosen on the development data of ``docs/validation.md``.

These settings were chosen by the earlier decoding analysis with leave-one-animal-out
cross-validation on synthetic data (more PCA components let the linear model fit
animal-specific directions and fail on a held-out animal). The pipeline's former quick decoders
(PCA 30, 200 trees, standardised logistic regression with C = 0.1, no gate) are gone.

The gate (``gate=GATE_THRESHOLD``, 2): a frame whose change z-score (column 0 of ``X``: change from
its neutral prototype, robust z against baseline frames) is ``<= gate`` is ``neutral``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mouseface.decoding.estimators import PrototypeClassifier
from mouseface.decoding.gated import GATE_THRESHOLD, ChangeGatedClassifier
from mouseface.errors import InputError

__all__ = ["DECODERS", "GATE_THRESHOLD", "make_decoder"]

DECODERS = ("prototype", "forest", "linear", "logistic")


def make_decoder(
    name: str,
    *,
    gate: float | None = None,
    n_components: int = 20,
    n_estimators: int = 50,
    C: float = 1.0,  # noqa: N803
    random_state: int = 0,
    columns: dict[str, slice] | None = None,
) -> BaseEstimator:
    """Build a decoder by name.

    Parameters
    ----------
    name : {"prototype", "forest", "linear", "logistic"}
    gate : float, optional
        Wrap the decoder in :class:`ChangeGatedClassifier` with this threshold (``X`` then has
        the change z-score as column 0); None = a plain classifier of the feature rows.
        ``logistic`` is wrapped with no threshold (``-inf``): it takes the same rows as the
        gated decoders but names every frame itself.
    n_components : int
        PCA components of ``forest`` and ``linear`` (clipped to what a fold's data allow).
    n_estimators : int
        Trees of ``forest``.
    C : float
        Inverse L2 penalty of ``linear``.
    random_state : int
    columns : dict, optional
        Feature set name -> its columns of a feature row (without the gate's column):
        ``logistic`` reads ``columns["flow"]`` when given.

    Returns
    -------
    estimator
        An unfitted scikit-learn classifier.

    Raises
    ------
    InputError
        Unknown name.
    """
    if name == "prototype":
        est: BaseEstimator = PrototypeClassifier()
    elif name == "forest":
        est = Pipeline(
            [
                ("pca", PCA(n_components=n_components, random_state=random_state)),
                (
                    "rf",
                    RandomForestClassifier(
                        n_estimators=n_estimators,
                        max_samples=0.5,
                        min_samples_leaf=2,
                        n_jobs=1,
                        random_state=random_state,
                    ),
                ),
            ]
        )
    elif name == "logistic":
        flow = (columns or {}).get("flow")
        est = Pipeline(
            [
                *([("flow", _columns(flow))] if flow is not None else []),
                ("scale", StandardScaler()),
                ("pca", PCA(n_components=50, random_state=random_state)),
                ("lr", LogisticRegression(C=0.01, max_iter=3000)),
            ]
        )
    elif name == "linear":
        est = Pipeline(
            [
                ("pca", PCA(n_components=n_components, random_state=random_state)),
                ("lr", LogisticRegression(C=C, max_iter=3000)),
            ]
        )
    else:
        raise InputError(f"unknown decoder {name!r}; choose from {', '.join(DECODERS)}")
    if gate is None:
        return est
    # logistic has its own neutral class, trained on the baseline frames: it names every frame
    # itself (behind the 2-z gate the same readout fell from 0.54 to 0.33 of the real-face
    # development frames, docs/validation.md)
    return ChangeGatedClassifier(est, threshold=-np.inf if name == "logistic" else float(gate))


def _columns(cols: slice) -> ColumnTransformer:
    """Keep the columns ``cols`` of a feature row (scikit-learn's column selection)."""
    return ColumnTransformer([("keep", "passthrough", cols)], remainder="drop")
