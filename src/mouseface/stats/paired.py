"""Paired comparisons between two conditions, per animal: tests, effect size and the two-level
(animal, then trial) bootstrap."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats as sps

from mouseface.errors import InputError
from mouseface.stats.bootstrap import Estimate, percentile_ci

__all__ = ["cohens_dz", "paired_tests", "paired_animal_means", "hierarchical_paired"]


def cohens_dz(diff: np.ndarray) -> float:
    """Cohen's d_z of paired differences: mean / sd (ddof=1); NaN with < 2 or sd 0."""
    d = np.asarray(diff, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size < 2 or d.std(ddof=1) == 0:
        return float("nan")
    return float(d.mean() / d.std(ddof=1))


def paired_tests(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Paired t-test and Wilcoxon signed-rank test of ``a - b``.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Paired values (e.g. per-animal mean strength in two states); n >= 2.

    Returns
    -------
    dict
        ``t``, ``p_t``, ``w``, ``p_wilcoxon`` (exact for small n; NaN when all differences
        are 0), ``dz`` (Cohen's d_z), ``n``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if a.size < 2:
        raise InputError(f"a paired test needs at least 2 pairs (animals), got {a.size}")
    d = a - b
    out = {"n": int(a.size), "dz": cohens_dz(d), "t": np.nan, "p_t": np.nan}
    out |= {"w": np.nan, "p_wilcoxon": np.nan}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if d.std(ddof=1) > 0:
            t = sps.ttest_rel(a, b)
            out["t"], out["p_t"] = float(t.statistic), float(t.pvalue)
        if np.any(d != 0):
            w = sps.wilcoxon(a, b)
            out["w"], out["p_wilcoxon"] = float(w.statistic), float(w.pvalue)
    return out


def _cell_means(values: np.ndarray, strata: np.ndarray, keep: np.ndarray) -> float:
    return float(np.mean([values[strata == k].mean() for k in keep]))


def _boot_cell_means(
    values: np.ndarray, strata: np.ndarray, keep: np.ndarray, n_boot: int, rng
) -> np.ndarray:
    reps = np.zeros(n_boot)
    for k in keep:
        v = values[strata == k]
        reps += v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    return reps / len(keep)


def _paired_cells(a, b, a_strata, b_strata) -> list:
    if len(a) != len(b):
        raise InputError("a paired comparison needs the same animals in both conditions")
    a_strata = a_strata or [np.zeros(len(u)) for u in a]
    b_strata = b_strata or [np.zeros(len(v)) for v in b]
    cells = []
    for j, (u, v, su, sv) in enumerate(zip(a, b, a_strata, b_strata, strict=True)):
        u, v = np.asarray(u, float), np.asarray(v, float)
        su, sv = np.asarray(su)[np.isfinite(u)], np.asarray(sv)[np.isfinite(v)]
        u, v = u[np.isfinite(u)], v[np.isfinite(v)]
        keep = np.intersect1d(su, sv)
        if keep.size:
            cells.append((j, u, su, v, sv, keep))
    return cells


def paired_animal_means(
    a: list[np.ndarray],
    b: list[np.ndarray],
    *,
    a_strata: list[np.ndarray] | None = None,
    b_strata: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-animal means in two conditions, balanced over shared strata.

    Parameters
    ----------
    a, b, a_strata, b_strata
        As in :func:`hierarchical_paired`.

    Returns
    -------
    mean_a, mean_b : ndarray, shape (k,)
        Each kept animal's mean over the strata it has in both conditions of the stratum means.
    kept : ndarray of int, shape (k,)
        Positions (in ``a``) of the animals kept (those with a shared stratum).
    """
    cells = _paired_cells(a, b, a_strata, b_strata)
    ma = np.array([_cell_means(u, su, k) for _, u, su, _, _, k in cells])
    mb = np.array([_cell_means(v, sv, k) for _, _, _, v, sv, k in cells])
    return ma, mb, np.array([c[0] for c in cells], dtype=np.int64)


def hierarchical_paired(
    a: list[np.ndarray],
    b: list[np.ndarray],
    *,
    a_strata: list[np.ndarray] | None = None,
    b_strata: list[np.ndarray] | None = None,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Mean paired difference and ratio of means between two conditions, with a two-level
    bootstrap (animals resampled, then trials within each animal, condition and stratum).

    The resampling is our own, not :func:`scipy.stats.bootstrap`: SciPy resamples independent
    observations of one level, while here the animals are the independent units and each
    animal's value is itself a mean of its trials, whose variability the interval must carry.

    Parameters
    ----------
    a, b : list of ndarray
        Per animal (same order in both lists), the trial values in condition A and B.
    a_strata, b_strata : list of ndarray, optional
        Per animal, a stratum label per trial (e.g. stimulus intensity). An animal's value in a
        condition is then the mean over the strata it has in *both* conditions of the stratum
        means, so that an unequal mix of intensities does not bias the comparison.
    n_boot, ci, seed
        Bootstrap replicates, coverage and seed.

    Returns
    -------
    dict
        ``diff``: mean over animals of (A - B); ``ratio``: (mean over animals of A) / (mean
        over animals of B), NaN when that mean is <= 0; ``a``, ``b``: the two means over
        animals. Animals without a shared stratum are left out.
    """
    cells = _paired_cells(a, b, a_strata, b_strata)
    n = len(cells)
    if n < 2:
        raise InputError(
            f"a paired comparison needs at least 2 animals with trials in both conditions, got {n}"
        )
    nb = int(n_boot)
    ma = np.array([_cell_means(u, su, k) for _, u, su, _, _, k in cells])
    mb = np.array([_cell_means(v, sv, k) for _, _, _, v, sv, k in cells])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, n, size=(nb, n))
    ba = np.empty((nb, n))
    bb = np.empty((nb, n))
    for j, (_, u, su, v, sv, keep) in enumerate(cells):
        ra = _boot_cell_means(u, su, keep, nb, rng)
        rb = _boot_cell_means(v, sv, keep, nb, rng)
        sel = pick == j
        ba[sel] = np.broadcast_to(ra[:, None], sel.shape)[sel]
        bb[sel] = np.broadcast_to(rb[:, None], sel.shape)[sel]
    den = bb.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_b = np.where(den > 0, ba.mean(axis=1) / den, np.nan)
    ratio = float(ma.mean() / mb.mean()) if mb.mean() > 0 else float("nan")
    return {
        "diff": Estimate(float((ma - mb).mean()), *percentile_ci((ba - bb).mean(axis=1), ci=ci), n),
        "ratio": Estimate(ratio, *percentile_ci(ratio_b, ci=ci), n),
        "a": Estimate(float(ma.mean()), *percentile_ci(ba.mean(axis=1), ci=ci), n),
        "b": Estimate(float(mb.mean()), *percentile_ci(den, ci=ci), n),
    }
