"""Change of meaning: does a stimulus's face move from one prototype toward another?

Example: sucrose evokes pleasure; after sucrose was paired with LiCl (conditioned taste aversion)
the same sucrose evokes a face closer to disgust. Pure functions (numpy / pandas in, numbers out);
:mod:`mouseface.analyses.meaning` gathers the HOG rows from an output folder and calls them.

Definitions (HOG vectors, one per frame, ``d`` features):

- *displacement* of a frame: its HOG minus its session's neutral prototype (mean HOG of the
  session's baseline frames), which removes day-to-day drift of the face and camera.
- *direction* of an emotion: the mean displacement of its ``n`` (10) stimulus-window frames
  least correlated with their session's neutral prototype (the paper's prototype rule, applied
  to displacements) over the reference trials.
- per trial, ``delta_r_<e>``: response-window mean minus baseline-window mean of the Pearson r
  of the frames with the emotion's prototype (session neutral + direction); ``preference`` =
  ``delta_r_<own> - delta_r_<toward>`` (the brief's "r with pleasure minus r with disgust").
- per trial, the mean response-window HOG minus the mean baseline-window HOG is decomposed as a
  non-negative mix of the directions of *every* emotion (least squares, ``w_<e> >= 0``);
  ``share`` of a set of trials = ``sum(w_toward) / sum(w_own + w_toward)`` (0 = the stimulus's
  own face, 1 = the other emotion's). Decomposing on all directions lets the parts of a response
  that are not proportional to the full prototype (HOG is not linear in the face's movement)
  fall on other emotions instead of on ``toward``; on the synthetic data the share then hardly
  moves with response amplitude (thirsty vs sated sucrose: -0.02 [-0.05, 0.01]), while
  ``preference`` grows with amplitude.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.optimize import nnls

from mouseface.errors import InputError
from mouseface.expression.prototypes import emotion_prototype, pearson_matrix
from mouseface.stats.bootstrap import percentile_ci

__all__ = [
    "direction",
    "nnls_weights",
    "trial_scores",
    "nearest_class",
    "condition_effect",
]


def direction(disp: np.ndarray, r_neutral: np.ndarray, *, n: int = 10) -> np.ndarray:
    """Direction of an emotion: mean of the ``n`` displacements least correlated with neutral.

    Parameters
    ----------
    disp : ndarray, shape (m, d)
        Displacements (HOG minus session neutral) of the emotion's stimulus-window frames.
    r_neutral : ndarray, shape (m,)
        Pearson r of each frame's HOG with its session's neutral prototype.
    n : int
        Number of frames averaged.

    Returns
    -------
    ndarray of float32, shape (d,)
    """
    return emotion_prototype(np.asarray(disp), np.asarray(r_neutral), n=n)


def nnls_weights(X: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Non-negative least-squares weights of every row of ``X`` on the rows of ``D``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Vectors to decompose (e.g. trial displacements).
    D : ndarray, shape (k, d)
        Basis vectors (e.g. emotion directions).

    Returns
    -------
    ndarray of float64, shape (n, k)
        ``w >= 0`` minimising ``||x - w @ D||``; NaN rows where ``x`` is not finite.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    D = np.atleast_2d(np.asarray(D, dtype=np.float64))
    if X.shape[1] != D.shape[1]:
        raise InputError(f"nnls_weights: X has {X.shape[1]} features, D has {D.shape[1]}")
    if not np.isfinite(D).all() or (np.linalg.norm(D, axis=1) == 0).any():
        raise InputError("nnls_weights: a direction is zero or not finite; it has no frames")
    out = np.full((len(X), len(D)), np.nan)
    for i, x in enumerate(X):
        if np.isfinite(x).all():
            out[i] = nnls(D.T, x)[0]
    return out


def trial_scores(
    response: list[np.ndarray],
    baseline: list[np.ndarray],
    neutral: np.ndarray,
    directions: Mapping[str, np.ndarray],
    *,
    own: str,
    toward: str,
) -> pd.DataFrame:
    """Meaning scores of trials of one session.

    Parameters
    ----------
    response, baseline : list of ndarray, each shape (m_k, d)
        HOG rows of each trial's response and baseline windows.
    neutral : ndarray, shape (d,)
        The session's neutral prototype.
    directions : mapping str -> ndarray, shape (d,)
        Directions of every emotion (at least ``own`` and ``toward``); the response is
        decomposed on all of them. A trial may use its own leave-one-out directions: pass one
        mapping per call.
    own, toward : str
        The stimulus's usual emotion and the emotion it may turn toward.

    Returns
    -------
    DataFrame
        One row per trial: ``delta_r_<own>``, ``delta_r_<toward>``, ``preference``,
        ``w_<e>`` for every direction, ``share`` (trial-level ``w_toward / (w_own +
        w_toward)``, NaN when both are 0).
    """
    if len(response) != len(baseline):
        raise InputError("trial_scores: one response and one baseline block per trial")
    for e in (own, toward):
        if e not in directions:
            raise InputError(f"trial_scores: no direction for {e!r}; it has no reference trials")
    names = list(directions)
    P = np.stack([neutral + directions[own], neutral + directions[toward]])
    D = np.stack([directions[e] for e in names])
    io, it = names.index(own), names.index(toward)
    rows = []
    for resp, base in zip(response, baseline, strict=True):
        if len(resp) == 0 or len(base) == 0:
            raise InputError("trial_scores: a trial has an empty response or baseline window")
        dr = np.nanmean(pearson_matrix(resp, P), axis=0) - np.nanmean(pearson_matrix(base, P), 0)
        x = resp.mean(axis=0, dtype=np.float64) - base.mean(axis=0, dtype=np.float64)
        w = nnls_weights(x[None, :], D)[0]
        total = w[io] + w[it]
        rows.append(
            {
                f"delta_r_{own}": dr[0],
                f"delta_r_{toward}": dr[1],
                "preference": dr[0] - dr[1],
                **{f"w_{e}": w[j] for j, e in enumerate(names)},
                "share": w[it] / total if total > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def nearest_class(
    hog: np.ndarray,
    neutral: np.ndarray,
    directions: Mapping[str, np.ndarray],
    *,
    threshold: float = 0.0,
) -> np.ndarray:
    """Emotion whose direction best matches each frame's displacement from neutral.

    Parameters
    ----------
    hog : ndarray, shape (n, d)
    neutral : ndarray, shape (d,)
        The session's neutral prototype.
    directions : mapping str -> ndarray, shape (d,)
        Emotion directions (prototype minus neutral).
    threshold : float
        Frames whose ``change`` (1 - r with ``neutral``) is at most this are ``"neutral"``
        (e.g. the 95th percentile of the session's baseline frames).

    Returns
    -------
    ndarray of str, shape (n,)
        ``"neutral"`` or the emotion with the highest Pearson r between the frame's
        displacement (``hog - neutral``) and its direction.
    """
    hog = np.atleast_2d(hog)
    names = np.asarray(list(directions), dtype=object)
    r = pearson_matrix(hog - neutral, np.stack(list(directions.values())))
    r = np.where(np.isnan(r), -np.inf, r)
    out = names[np.argmax(r, axis=1)]
    change = 1.0 - pearson_matrix(hog, neutral[None, :])[:, 0]
    return np.where(change > threshold, out, "neutral").astype(object)


def _ratio(num: np.ndarray, den: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sum(num[mask]) / sum(den[mask]) along the last axis (mask may be 2-D)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (mask * num).sum(-1) / (mask * den).sum(-1)


def _signflip_p(diffs: np.ndarray, rng: np.random.Generator, n_perm: int) -> float:
    """Two-sided sign-flip p of mean(diffs) = 0 (:func:`scipy.stats.permutation_test`; exact
    up to 2**16 sign combinations, ``n_perm`` random ones beyond)."""
    n = len(diffs)
    res = sps.permutation_test(
        (np.asarray(diffs, dtype=np.float64),),
        np.mean,
        permutation_type="samples",
        vectorized=True,
        n_resamples=2**16 if n <= 16 else int(n_perm),
        alternative="two-sided",
        rng=rng,
    )
    return float(res.pvalue)


def condition_effect(
    table: pd.DataFrame,
    *,
    num: str,
    den: str | None = None,
    before: str,
    after: str,
    condition: str = "condition",
    animal: str = "animal",
    n_perm: int = 5000,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> dict:
    """Paired-by-animal change of a trial statistic between two conditions.

    Per animal and condition the statistic is ``sum(num) / sum(den)`` over its trials (the
    mean of ``num`` when ``den`` is None); the effect is the mean over animals of
    ``after - before``.

    Parameters
    ----------
    table : DataFrame
        One row per trial with columns ``animal``, ``condition``, ``num`` (and ``den``).
    num, den : str
        Columns of the numerator and denominator.
    before, after : str
        The two values of ``condition`` compared.
    n_perm : int
        Permutations of the condition labels among each animal's trials (stratified by
        animal: the test of "no difference within these animals").
    n_boot : int
        Hierarchical bootstrap replicates (animals, then trials within animal and condition).
    ci : float
        Interval coverage.
    seed : int

    Returns
    -------
    dict
        ``value``, ``ci_low``, ``ci_high``, ``p_permutation``, ``p_signflip`` (exact over the
        animals' signs; its smallest possible value is ``2 / 2**n_animals``), ``d`` (effect in
        units of the pooled within-animal trial SD of ``num / den``), ``d_ci_low``,
        ``d_ci_high``, ``n_animals``, ``n_before``, ``n_after`` and ``per_animal`` (DataFrame:
        animal, before, after, difference, n_before, n_after).

    Raises
    ------
    InputError
        When fewer than 2 animals have trials in both conditions.
    """
    if not 0 < ci < 1:
        raise InputError(f"ci must be in (0, 1), got {ci}")
    t = table[table[condition].isin([before, after])].copy()
    t["_num"] = t[num].astype(float)
    t["_den"] = 1.0 if den is None else t[den].astype(float)
    t = t[np.isfinite(t["_num"]) & np.isfinite(t["_den"])]
    groups = []
    for a, g in t.groupby(animal, sort=True):
        lab = (g[condition] == after).to_numpy()
        if lab.any() and (~lab).any():
            groups.append((a, g["_num"].to_numpy(), g["_den"].to_numpy(), lab))
    if len(groups) < 2:
        raise InputError(
            f"comparing {before!r} with {after!r} needs at least 2 animals with trials in both; "
            f"found {len(groups)} ({', '.join(str(g[0]) for g in groups) or 'none'})"
        )
    rng = np.random.default_rng(seed)

    def diff(nu, de, lab):  # works on (..., n) arrays of labels
        return _ratio(nu, de, lab) - _ratio(nu, de, ~lab)

    per = []
    null = np.zeros(n_perm)
    boot_diff = np.zeros((n_boot, len(groups)))
    resid, boot_ss, boot_cnt = [], np.zeros((n_boot, len(groups))), np.zeros(len(groups))
    for j, (a, nu, de, lab) in enumerate(groups):
        per.append((a, _ratio(nu, de, ~lab), _ratio(nu, de, lab), lab.sum(), (~lab).sum()))
        perms = rng.permuted(np.tile(lab, (n_perm, 1)), axis=1)
        null += diff(nu, de, perms)
        idx = np.concatenate(
            [rng.choice(np.flatnonzero(m), size=(n_boot, m.sum())) for m in (~lab, lab)], axis=1
        )
        bl = np.concatenate([np.zeros((~lab).sum(), bool), np.ones(lab.sum(), bool)])
        bl = np.broadcast_to(bl, idx.shape)
        boot_diff[:, j] = diff(nu[idx], de[idx], bl)
        v = nu / np.where(de == 0, np.nan, de)
        for m in (~lab, lab):
            resid.append(v[m] - np.nanmean(v[m]))
        bv = v[idx]
        boot_ss[:, j] = np.nansum((bv - _group_means(bv, bl)) ** 2, axis=1)
        boot_cnt[j] = len(v) - 2
    diffs = np.array([p[2] - p[1] for p in per])
    value = float(diffs.mean())
    null /= len(groups)
    p_perm = float((1 + np.sum(np.abs(null) >= abs(value) - 1e-12)) / (1 + n_perm))
    pick = rng.integers(0, len(groups), size=(n_boot, len(groups)))
    bmean = np.take_along_axis(boot_diff, pick, axis=1).mean(axis=1)
    sd = float(np.sqrt(np.nansum(np.concatenate(resid) ** 2) / max(1, boot_cnt.sum())))
    bsd = np.sqrt(np.take_along_axis(boot_ss, pick, 1).sum(1) / max(1, boot_cnt.sum()))
    with np.errstate(invalid="ignore", divide="ignore"):
        bd = np.where(bsd > 0, bmean / bsd, np.nan)
    bd = bd[np.isfinite(bd)]
    d_lo, d_hi = percentile_ci(bd, ci=ci)
    ci_low, ci_high = percentile_ci(bmean, ci=ci, min_finite=1)
    return {
        "value": value,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "p_permutation": p_perm,
        "p_signflip": _signflip_p(diffs, rng, n_perm),
        "d": value / sd if sd > 0 else float("nan"),
        "d_ci_low": float(d_lo),
        "d_ci_high": float(d_hi),
        "n_animals": len(groups),
        "n_before": int(sum(p[4] for p in per)),
        "n_after": int(sum(p[3] for p in per)),
        "per_animal": pd.DataFrame(
            [
                {
                    "animal": a,
                    "before": b,
                    "after": f,
                    "difference": f - b,
                    "n_before": int(nb),
                    "n_after": int(na),
                }
                for a, b, f, na, nb in per
            ]
        ),
    }


def _group_means(v: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Row-wise mean of ``v`` within each label (True/False), broadcast back to ``v``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.nansum(np.where(lab, v, 0), 1, keepdims=True) / lab.sum(1, keepdims=True)
        m0 = np.nansum(np.where(~lab, v, 0), 1, keepdims=True) / (~lab).sum(1, keepdims=True)
    return np.where(lab, m1, m0)
