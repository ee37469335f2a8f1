"""Valence and arousal: a two-dimensional readout of the face per frame, from the prototypes.

Definitions (per session; ``strength_e`` = Pearson r of a frame's HOG with emotion ``e``'s
prototype, ``change`` = 1 - r with the session's neutral prototype, as in ``frames.parquet``):

- **normalised strength** ``u_e = (strength_e - b_e) / (1 - b_e)``, with ``b_e`` the median
  ``strength_e`` of the session's baseline frames: 0 for the session's usual neutral face, 1 for
  a frame identical to the prototype. Recomputing ``b_e`` per session removes day-to-day drift.
- **valence** ``V = max_{e in positive} max(u_e, 0) - max_{e in negative} max(u_e, 0)``: how far
  the face has moved toward its best-matching positive prototype (pleasure) minus toward its
  best-matching negative one (disgust, malaise, pain, fear). Taking the maximum of each pole
  keeps one dominant negative emotion from being counted several times through prototypes that
  share action units (pain and malaise). The maximum over several clipped noisy values is
  slightly positive at rest, so the analysis subtracts the median valence of the session's
  baseline frames: 0 is the session's usual neutral face.
- **arousal** ``A = (change - c) / s``: the distance of the face from the neutral prototype,
  ``c`` the median ``change`` of the session's baseline frames and ``s`` the mean distance of the
  animal's emotion prototypes from its neutral prototype (``1 - r``), so that 0 is the neutral
  face and 1 a face as far from neutral as a typical full expression. It measures how much the
  face is activated, whatever the emotion (no emotion is given an arousal value by hand).

Pure functions: numpy in, numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mouseface.errors import InputError
from mouseface.stats.bootstrap import check_ci, percentile_ci

__all__ = [
    "normalised_strength",
    "valence",
    "arousal",
    "locked_average",
    "hierarchical_mean_ci",
]


def _baseline(values: np.ndarray, mask: np.ndarray, what: str) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[0] != values.shape[0]:
        raise InputError(f"{what}: baseline mask has {mask.shape[0]} frames, values {len(values)}")
    sel = values[mask]
    sel = sel[np.isfinite(sel).all(axis=tuple(range(1, sel.ndim)))] if sel.ndim > 1 else sel
    if len(sel) == 0:
        raise InputError(f"{what}: no finite baseline frames to calibrate against")
    return np.nanmedian(sel, axis=0)


def normalised_strength(strength: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Strength rescaled to 0 at the session's neutral face and 1 at the prototype.

    Parameters
    ----------
    strength : ndarray, shape (n, k)
        Pearson r of each frame with each of ``k`` prototypes.
    baseline : ndarray of bool, shape (n,)
        Baseline frames of the session.

    Returns
    -------
    ndarray of float64, shape (n, k)
        ``(strength - b) / (1 - b)`` with ``b`` the baseline median per prototype.
    """
    s = np.atleast_2d(np.asarray(strength, dtype=np.float64))
    b = _baseline(s, baseline, "normalised_strength")
    if np.any(b >= 1):
        raise InputError("normalised_strength: baseline frames already equal a prototype (r = 1)")
    return (s - b) / (1.0 - b)


def valence(u: np.ndarray, *, positive: Sequence[int], negative: Sequence[int]) -> np.ndarray:
    """Valence per frame: best positive minus best negative normalised strength (clipped at 0).

    Parameters
    ----------
    u : ndarray, shape (n, k)
        Normalised strengths (see :func:`normalised_strength`).
    positive, negative : sequence of int
        Columns of ``u`` of the positive and negative emotions (either may be empty, not both).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    u = np.atleast_2d(np.asarray(u, dtype=np.float64))
    positive, negative = list(positive), list(negative)
    if not positive and not negative:
        raise InputError("valence needs at least one positive or negative emotion")
    if set(positive) & set(negative):
        raise InputError("an emotion cannot be both positive and negative")
    up = np.clip(u, 0.0, None)
    with np.errstate(invalid="ignore"):
        pos = np.nanmax(up[:, positive], axis=1) if positive else 0.0
        neg = np.nanmax(up[:, negative], axis=1) if negative else 0.0
    return np.asarray(pos - neg, dtype=np.float64)


def arousal(change: np.ndarray, baseline: np.ndarray, *, scale: float) -> np.ndarray:
    """Arousal per frame: distance from neutral relative to a full expression's distance.

    Parameters
    ----------
    change : ndarray, shape (n,)
        ``1 - r`` with the session's neutral prototype.
    baseline : ndarray of bool, shape (n,)
        Baseline frames of the session (their median change is the zero).
    scale : float
        Mean ``1 - r`` between the animal's neutral and emotion prototypes (> 0).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(f"arousal: scale must be a positive distance, got {scale}")
    c = np.asarray(change, dtype=np.float64)
    return (c - _baseline(c, baseline, "arousal")) / float(scale)


def locked_average(
    times: np.ndarray,
    values: np.ndarray,
    onsets: Sequence[float],
    *,
    span: tuple[float, float] = (-2.0, 6.0),
    step: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Stimulus-locked mean of per-frame values (nearest frame to each time on a grid).

    Parameters
    ----------
    times : ndarray, shape (n,)
        Frame times, s, increasing.
    values : ndarray, shape (n, m)
    onsets : sequence of float
        Stimulus onsets, s.
    span : (float, float)
        Grid start and end relative to onset, s.
    step : float
        Grid step, s.

    Returns
    -------
    grid : ndarray, shape (T,)
    mean : ndarray, shape (T, m)
        Mean over onsets (NaN where no onset covers a grid time).
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(len(times), -1)
    if step <= 0 or span[1] <= span[0]:
        raise InputError(f"locked_average: bad span {span} or step {step}")
    grid = np.arange(span[0], span[1] + step / 2, step)
    acc = np.zeros((len(grid), values.shape[1]))
    cnt = np.zeros((len(grid), values.shape[1]))
    dt = np.median(np.diff(times)) if len(times) > 1 else step
    for onset in onsets:
        t = onset + grid
        j = np.clip(np.searchsorted(times, t), 1, len(times) - 1)
        j = np.where(np.abs(times[j - 1] - t) <= np.abs(times[j] - t), j - 1, j)
        ok = (np.abs(times[j] - t) <= dt)[:, None] & np.isfinite(values[j])
        acc += np.where(ok, values[j], 0.0)
        cnt += ok
    with np.errstate(invalid="ignore"):
        return grid, acc / np.where(cnt > 0, cnt, np.nan)


def hierarchical_mean_ci(
    values: np.ndarray,
    groups: np.ndarray,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of per-group means with a hierarchical bootstrap interval.

    Groups (animals) are resampled with replacement, then values (trials) within each group.

    Parameters
    ----------
    values : ndarray, shape (n,)
    groups : ndarray, shape (n,)
        Group label of each value.
    n_boot : int
    ci : float
        Coverage in (0, 1).
    seed : int

    Returns
    -------
    (mean, low, high) : tuple of float
    """
    check_ci(ci)
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray(groups)
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    if len(v) == 0:
        raise InputError("hierarchical_mean_ci: no finite values")
    labels = list(dict.fromkeys(g.tolist()))
    rng = np.random.default_rng(seed)
    reps = []
    for lab in labels:
        x = v[g == lab]
        reps.append(x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1))
    reps_arr = np.stack(reps, axis=1)  # (n_boot, n_groups)
    pick = rng.integers(0, len(labels), size=(n_boot, len(labels)))
    boot = np.take_along_axis(reps_arr, pick, axis=1).mean(axis=1)
    mean = float(np.mean([v[g == lab].mean() for lab in labels]))
    lo, hi = percentile_ci(boot, ci=ci, min_finite=1)
    return mean, lo, hi
