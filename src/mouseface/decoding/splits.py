"""Cross-validation schemes: leave one animal out, leave one session out, random splits.

- :func:`cv_splits`: leave one animal out (``"animal"``, scikit-learn's ``LeaveOneGroupOut``
  over animals, or subjects where several animals are one individual), leave one session out
  (``"session"``) or repeated random splits that keep each trial's frames together
  (``"random"``, ``GroupShuffleSplit`` over trials).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, LeaveOneGroupOut

from mouseface.errors import InputError

__all__ = ["SCHEMES", "Split", "cv_splits"]

SCHEMES = ("animal", "session", "random")


@dataclass(frozen=True)
class Split:
    """One train/test split.

    Attributes
    ----------
    fold : str
        Name of the fold: the held-out animal or session, or ``"split<k>"``.
    train, test : ndarray of int
        Row indices.
    """

    fold: str
    train: np.ndarray
    test: np.ndarray


def _leave_one_out(groups: np.ndarray, what: str) -> list[Split]:
    uniq = np.unique(groups)
    if len(uniq) < 2:
        raise InputError(
            f"cross-validation by {what} needs at least 2 {what}s, got {len(uniq)} "
            f"({', '.join(map(str, uniq))}); add sessions of another {what} or choose another "
            "scheme"
        )
    return [
        Split(str(groups[te[0]]), tr, te)
        for tr, te in LeaveOneGroupOut().split(groups, groups=groups)
    ]


def cv_splits(
    scheme: str,
    *,
    animals: np.ndarray,
    sessions: np.ndarray,
    clusters: np.ndarray,
    n_splits: int = 5,
    test_size: float = 0.25,
    seed: int = 0,
) -> list[Split]:
    """Train/test splits of a cross-validation scheme.

    Parameters
    ----------
    scheme : {"animal", "session", "random"}
        ``animal``: leave one animal out; ``session``: leave one session out; ``random``:
        ``n_splits`` random splits holding out ``test_size`` of the clusters (trials) each.
    animals, sessions, clusters : ndarray, shape (n,)
        Animal, session and cluster (trial) of each row. A cluster is never split between train
        and test in the ``random`` scheme.
    n_splits : int
        Repeats of the ``random`` scheme.
    test_size : float
        Fraction of the clusters held out by each random split, in (0, 1).
    seed : int
        Seed of the random splits.

    Returns
    -------
    list of Split

    Raises
    ------
    InputError
        Unknown scheme, fewer than 2 animals / sessions, or too few clusters to split.
    """
    animals, sessions, clusters = (np.asarray(a) for a in (animals, sessions, clusters))
    if scheme == "animal":
        return _leave_one_out(animals, "animal")
    if scheme == "session":
        return _leave_one_out(sessions, "session")
    if scheme != "random":
        raise InputError(f"unknown cross-validation scheme {scheme!r}; choose from {SCHEMES}")
    if not 0.0 < test_size < 1.0:
        raise InputError(f"test_size must be in (0, 1), got {test_size}")
    if n_splits < 1:
        raise InputError(f"n_splits must be >= 1, got {n_splits}")
    uniq, inverse = np.unique(clusters.astype(str), return_inverse=True)
    n_test = int(round(test_size * len(uniq)))
    if len(uniq) < 4 or n_test < 1 or n_test >= len(uniq):
        raise InputError(
            f"random splits need at least 4 trials to hold out {test_size:.0%} of them, got "
            f"{len(uniq)}; use more trials or the 'animal' / 'session' scheme"
        )
    cv = GroupShuffleSplit(n_splits=n_splits, test_size=n_test, random_state=seed)
    return [
        Split(f"split{k}", np.sort(tr), np.sort(te))
        for k, (tr, te) in enumerate(cv.split(clusters, groups=inverse))
    ]
