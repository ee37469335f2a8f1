"""The pipeline's quick leave-one-animal-out decoders (``decoding.parquet``, trials' ``predicted``).

Every decoder of the config is cross-validated by animal on frames (baseline frames ``neutral``,
response-window frames their trial's emotion) and on trials (the mean response-window row).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mouseface.decoding.estimators import cross_validate_by_group, make_decoder
from mouseface.errors import InputError

__all__ = ["subsample_per_group", "decode_all"]


def subsample_per_group(keys: np.ndarray, *, max_per_key: int, seed: int = 0) -> np.ndarray:
    """Indices keeping at most ``max_per_key`` rows of each distinct key (random, reproducible)."""
    rng = np.random.default_rng(seed)
    keep = []
    for k in np.unique(keys):
        idx = np.flatnonzero(keys == k)
        if len(idx) > max_per_key:
            idx = np.sort(rng.choice(idx, size=max_per_key, replace=False))
        keep.append(idx)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)


def _tidy(
    scores: pd.DataFrame,
    y: np.ndarray,
    pred: np.ndarray,
    groups: np.ndarray,
    *,
    decoder: str,
    level: str,
) -> pd.DataFrame:
    rows = []
    for _, s in scores.iterrows():
        base = {
            "decoder": decoder,
            "level": level,
            "fold": int(s["fold"]),
            "held_out": s["held_out"],
        }
        for metric in ("accuracy", "balanced_accuracy", "n_test"):
            rows.append(
                {
                    **base,
                    "metric": metric,
                    "value": float(s[metric]),
                    "true": None,
                    "predicted": None,
                }
            )
        te = groups == s["held_out"]
        counts = pd.crosstab(pd.Series(y[te], name="t"), pd.Series(pred[te], name="p"))
        for t in counts.index:
            for p in counts.columns:
                if counts.loc[t, p]:
                    rows.append(
                        {
                            **base,
                            "metric": "count",
                            "value": float(counts.loc[t, p]),
                            "true": str(t),
                            "predicted": str(p),
                        }
                    )
    return pd.DataFrame(rows)


def decode_all(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    decoders: Sequence[str],
    level: str,
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Leave-one-animal-out cross-validation of every decoder.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    y : ndarray of str, shape (n,)
    groups : ndarray of str, shape (n,)
        Animal of each row.
    decoders : sequence of str
        Decoder names (see :func:`mouseface.decoding.estimators.make_decoder`).
    level : str
        ``"frame"`` or ``"trial"``, written in the table.

    Returns
    -------
    table : DataFrame
        Tidy per-fold scores and confusion counts (see DESIGN: ``decoding.parquet``).
    predictions : dict
        decoder -> (predicted (n,), proba (n, k), classes (k,)), out of fold.
    """
    tables, preds = [], {}
    for name in decoders:
        make_decoder(name)  # validates the name before any work
        scores, pred, proba, classes = cross_validate_by_group(
            lambda name=name: make_decoder(name), X, y, groups, what="animal"
        )
        if scores.empty:
            raise InputError(f"{level}-level decoding: no fold had 2 classes to train on")
        tables.append(_tidy(scores, y, pred, groups, decoder=name, level=level))
        preds[name] = (pred, proba, classes)
    return pd.concat(tables, ignore_index=True), preds
