"""The expression a stimulation evokes: laser epochs against matched baseline and sham epochs,
the evoked emotion with its confidence, dose-response, and the ``opto.parquet`` table.

Per epoch and emotion, ``laser`` = mean ``strength_<emotion>`` over the epoch's frames and
``baseline`` = the mean over the same duration just before the onset; the epoch's effect is
``laser - baseline``. Per target:

- *laser vs baseline*: the evoked emotion is the one with the largest mean effect; its p is a
  sign-flip permutation test over epochs (paired: each epoch's laser mean against its own
  baseline, epochs of every power of the target pooled) of the statistic "largest mean effect
  over the emotions", one-sided (the laser raises an expression): every epoch's row of effects
  is flipped as a whole, so the null distribution of the maximum already accounts for having
  picked the largest of the emotions (no Bonferroni needed, which with 6 prototypes and 6
  epochs made p >= 0.19 whatever the effect). All ``2**n`` sign patterns are used when there
  are at most ``n_permutations`` of them (exact test), else ``n_permutations`` random ones.
  The p values of the targets of a session are Holm-adjusted
  (:func:`statsmodels.stats.multitest.multipletests`). Interval = percentile bootstrap over
  epochs (``scipy.stats.bootstrap``).
- *laser vs sham*: effect = mean effect of the target's epochs minus that of the sham epochs
  (the target's own sham rows if it has any, else all sham rows) for the emotion with the
  largest difference; p = permutation test of the laser/sham labels over epochs (exact over
  all splits when there are at most ``n_permutations``) of the largest difference over the
  emotions, one-sided, Holm over targets; bootstrap interval of the difference of means.
- *sham vs baseline*: as laser vs baseline, for the sham epochs (should evoke nothing).
- *dose-response* over ``power`` (and ``frequency`` when it varies): Spearman rho of the
  evoked emotion's epoch effects with the level (``scipy.stats.spearmanr``), interval by the
  Fisher z transform with the Fieller et al. (1957) standard error ``sqrt(1.06 / (n - 3))``.

Confidence of the evoked emotion: the face decoder's mean probability of that emotion
(``p_<emotion>``) over the laser-epoch frames when the frames have decoder probabilities, else
the fraction of bootstrap resamples of epochs in which the same emotion has the largest effect.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import bootstrap, norm, spearmanr
from statsmodels.stats.multitest import multipletests

from mouseface.errors import InputError
from mouseface.neural.responses import Psth, psth

__all__ = [
    "OPTO_COLUMNS",
    "epoch_strength",
    "opto_table",
    "laser_locked",
    "signflip_max_p",
    "label_max_p",
]

#: Columns of ``opto.parquet``.
OPTO_COLUMNS = (
    "session",
    "target",
    "condition",
    "evoked_emotion",
    "statistic",
    "effect",
    "ci_low",
    "ci_high",
    "p",
    "test",
    "n_epochs",
    "confidence",
    "confidence_source",
)


def _emotions(frames: pd.DataFrame, emotions: Sequence[str] | None) -> list[str]:
    have = [c[len("strength_") :] for c in frames.columns if str(c).startswith("strength_")]
    emos = [e for e in have if e != "neutral"] if emotions is None else list(emotions)
    missing = [e for e in emos if e not in have]
    if missing or not emos:
        raise InputError(
            f"frames: no strength_<emotion> column for {missing or 'any emotion'}; run the face "
            "analysis before the optogenetics statistics"
        )
    return emos


def _window_means(t: np.ndarray, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of ``x`` rows over frames with ``a <= t < b``; ``(n_windows, k)``, NaN if empty."""
    cs = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    i0 = np.searchsorted(t, a, side="left")
    i1 = np.searchsorted(t, b, side="left")
    n = (i1 - i0).astype(np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (cs[i1] - cs[i0]) / n
    out[(n == 0)[:, 0]] = np.nan
    return out


def epoch_strength(
    frames: pd.DataFrame,
    laser: pd.DataFrame,
    *,
    emotions: Sequence[str] | None = None,
    source: str = "laser table",
) -> pd.DataFrame:
    """Mean strength of every prototype in each laser epoch and its matched baseline window.

    Parameters
    ----------
    frames : pandas.DataFrame
        ``frames.parquet`` of the session (``time``, ``strength_<emotion>``, optional
        ``p_<class>``).
    laser : pandas.DataFrame
        Checked laser table (:func:`mouseface.neural.laser.check_laser_table`).
    emotions : sequence of str or None, optional
        Default: every ``strength_<emotion>`` column except neutral.
    source : str, optional
        Name of the laser table for messages.

    Raises
    ------
    mouseface.errors.InputError
        When an epoch or its baseline window lies outside the video (wrong clock or file).

    Returns
    -------
    pandas.DataFrame
        One row per epoch and emotion: the laser columns, ``emotion``, ``laser``,
        ``baseline``, ``effect`` (= laser - baseline) and ``p_decoder`` (mean decoder
        probability of the emotion in the epoch; NaN without ``p_<emotion>`` columns). Epochs
        whose windows hold no frame (a gap in the video) are dropped.
    """
    emos = _emotions(frames, emotions)
    t = frames["time"].to_numpy(np.float64)
    x = frames[[f"strength_{e}" for e in emos]].to_numpy(np.float64)
    on = laser["onset"].to_numpy(np.float64)
    du = laser["duration"].to_numpy(np.float64)
    outside = (on - du < t[0] - 1e-9) | (on + du > t[-1] + 1e-9)
    if outside.any():
        i = int(np.argmax(outside))
        line = laser["row"].iloc[i] if "row" in laser.columns else i + 2
        raise InputError(
            f"{source}: line {line}: the epoch at {on[i]:g} s (and its {du[i]:g}-s baseline "
            f"before it) is not inside the video ({t[0]:g}-{t[-1]:g} s); laser onsets must be "
            "on the video clock: convert them (sync table) or drop epochs outside the video"
        )
    lase = _window_means(t, x, on, on + du)
    base = _window_means(t, x, on - du, on)
    pcols = [f"p_{e}" for e in emos]
    if all(c in frames.columns for c in pcols):
        pdec = _window_means(t, frames[pcols].to_numpy(np.float64), on, on + du)
    else:
        pdec = np.full_like(lase, np.nan)
    n, m = lase.shape
    out = laser.loc[laser.index.repeat(m)].reset_index(drop=True)
    out["emotion"] = np.tile(np.asarray(emos, dtype=object), n)
    out["laser"] = lase.ravel()
    out["baseline"] = base.ravel()
    out["effect"] = (lase - base).ravel()
    out["p_decoder"] = pdec.ravel()
    return out[np.isfinite(out["effect"])].reset_index(drop=True)


def _matrix(es: pd.DataFrame, emos: list[str], col: str = "effect") -> np.ndarray:
    """``(n_epochs, n_emotions)`` of ``col`` (epochs missing an emotion dropped)."""
    wide = es.pivot_table(index="epoch", columns="emotion", values=col, aggfunc="first")
    return wide.reindex(columns=emos).dropna().to_numpy(np.float64)


def _boot_ci(data: tuple[np.ndarray, ...], stat, *, n_boot: int, level: float, rng) -> tuple:
    if min(len(d) for d in data) < 2:
        return float("nan"), float("nan")
    if all(np.ptp(d) == 0 for d in data):
        v = float(stat(*data))
        return v, v
    res = bootstrap(
        data,
        stat,
        n_resamples=n_boot,
        confidence_level=level,
        method="percentile",
        random_state=rng,
        vectorized=False,
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _sign_patterns(n: int, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """``(k, n)`` rows of +-1: all ``2**n`` patterns when ``2**n <= n_permutations`` (the
    identity among them), else the identity plus ``n_permutations`` random patterns."""
    if n <= 30 and 2**n <= n_permutations:
        bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
        return 1.0 - 2.0 * bits
    rand = rng.choice([-1.0, 1.0], size=(n_permutations, n))
    return np.vstack([np.ones((1, n)), rand])


def signflip_max_p(E: np.ndarray, *, n_permutations: int = 10000, seed=0) -> float:
    """One-sided sign-flip permutation p of ``max_j mean_i E[i, j]`` (paired epochs).

    Under the null (the laser changes no expression) each epoch's laser-minus-baseline row is
    as likely as its negative; whole rows are flipped together, so the correlation between
    prototypes is kept and the maximum over prototypes is part of the statistic (the test is
    valid for the emotion picked as the largest). Our own rather than
    :func:`scipy.stats.permutation_test`, which flips each entry of a 2-D sample on its own.

    Parameters
    ----------
    E : numpy.ndarray
        ``(n_epochs, n_emotions)`` float effects (laser minus matched baseline).
    n_permutations : int, optional
        Exact over all ``2**n_epochs`` sign patterns when there are at most this many
        (default 10000), else this many random patterns.
    seed : int or numpy.random.Generator, optional
        Random source of the random patterns.

    Returns
    -------
    float
        ``#{patterns with statistic >= observed} / #patterns`` (the identity counted; with random
        patterns ``(1 + #) / (1 + n)``); NaN with fewer than 2 epochs.
    """
    E = np.asarray(E, dtype=np.float64)
    n = len(E)
    if n < 2:
        return float("nan")
    signs = _sign_patterns(n, int(n_permutations), np.random.default_rng(seed))
    null = (signs @ E / n).max(axis=1)
    obs = float(E.mean(axis=0).max())
    return float(np.mean(null >= obs - 1e-12))


def label_max_p(A: np.ndarray, B: np.ndarray, *, n_permutations: int = 10000, seed=0) -> float:
    """One-sided permutation p of ``max_j (mean A[:, j] - mean B[:, j])`` over group labels.

    Parameters
    ----------
    A, B : numpy.ndarray
        ``(n_a, n_emotions)`` and ``(n_b, n_emotions)`` epoch effects (laser, sham).
    n_permutations : int, optional
        Exact over every split of the pooled epochs when there are at most this many
        (default 10000), else this many random relabellings.
    seed : int or numpy.random.Generator, optional
        Random source.

    Returns
    -------
    float
        Fraction of labellings (the observed one counted) whose statistic is >= the observed;
        NaN when a group has no epoch.
    """
    from itertools import combinations
    from math import comb

    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    na, nb = len(A), len(B)
    if na < 1 or nb < 1:
        return float("nan")
    X = np.vstack([A, B])
    n = na + nb
    if comb(n, na) <= n_permutations:
        idx = np.array(list(combinations(range(n), na)))
    else:
        rng = np.random.default_rng(seed)
        idx = np.vstack(
            [np.arange(na)[None, :]]
            + [rng.permutation(n)[None, :na] for _ in range(int(n_permutations))]
        )
    mask = np.zeros((len(idx), n), dtype=bool)
    np.put_along_axis(mask, idx, True, axis=1)
    sa = mask.astype(np.float64) @ X
    total = X.sum(axis=0)
    null = (sa / na - (total - sa) / nb).max(axis=1)
    obs = float((A.mean(axis=0) - B.mean(axis=0)).max())
    return float(np.mean(null >= obs - 1e-12))


def _holm(rows: list[dict], condition: str) -> None:
    """Holm-adjust, in place, the p of the rows of ``condition`` (over the targets)."""
    sel = [r for r in rows if r["condition"] == condition and np.isfinite(r["p"])]
    if len(sel) > 1:
        adj = multipletests([r["p"] for r in sel], method="holm")[1]
        for r, q in zip(sel, adj, strict=True):
            r["p"] = float(q)


def _vs_baseline(E, P, emos, *, n_boot, n_permutations, level, rng) -> dict:
    """Laser (or sham) vs matched baseline from the epoch-effect matrix ``E``."""
    mean = E.mean(axis=0)
    k = int(np.argmax(mean))
    d = E[:, k]
    lo, hi = _boot_ci((d,), np.mean, n_boot=n_boot, level=level, rng=rng)
    p = signflip_max_p(E, n_permutations=n_permutations, seed=rng)
    if np.isfinite(P).all() and P.size:
        conf, src = float(P[:, k].mean()), "decoder"
    else:
        idx = rng.integers(0, len(E), size=(n_boot, len(E)))
        wins = np.argmax(E[idx].mean(axis=1), axis=1) == k
        conf, src = float(wins.mean()), "bootstrap"
    return {
        "evoked_emotion": emos[k],
        "statistic": "mean_difference",
        "effect": float(mean[k]),
        "ci_low": lo,
        "ci_high": hi,
        "p": p,
        "test": "sign-flip permutation (paired epochs), max over emotions, one-sided",
        "n_epochs": int(len(E)),
        "confidence": conf,
        "confidence_source": src,
    }


def opto_table(
    frames: pd.DataFrame,
    laser: pd.DataFrame,
    *,
    session: str,
    emotions: Sequence[str] | None = None,
    n_boot: int = 2000,
    n_permutations: int = 10000,
    level: float = 0.95,
    seed: int = 0,
    source: str = "laser table",
) -> pd.DataFrame:
    """The ``opto.parquet`` rows of one session.

    Parameters
    ----------
    frames : pandas.DataFrame
        ``frames.parquet`` (``time`` on the video clock, ``strength_<emotion>``, optional
        ``p_<class>``).
    laser : pandas.DataFrame
        Checked laser table (:func:`mouseface.neural.laser.read_laser_table`), video clock.
    session : str
        Session id.
    emotions : sequence of str or None, optional
        Default: every ``strength_<emotion>`` column except neutral.
    n_boot : int, optional
        Bootstrap resamples for the intervals (default 2000).
    n_permutations : int, optional
        Largest number of sign patterns / relabellings of the permutation tests (default
        10000; exact enumeration when there are fewer).
    level : float, optional
        Interval level (default 0.95).
    seed : int, optional
        Random source of the bootstraps.
    source : str, optional
        Name of the laser table for messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OPTO_COLUMNS`; one row per target and condition: ``laser_vs_baseline``,
        ``laser_vs_sham`` (when there are sham epochs), ``dose_power`` and ``dose_frequency``
        (when the level varies over >= 4 epochs; ``effect`` = Spearman rho), and per session
        ``sham_vs_baseline`` (target ``sham``). See the module docstring for the tests.
    """
    emos = _emotions(frames, emotions)
    rng = np.random.default_rng(seed)
    es = epoch_strength(frames, laser, emotions=emos, source=source)
    rows: list[dict] = []
    sham_all = es[es["sham"]]
    if sham_all["epoch"].nunique() >= 2:
        Es = _matrix(sham_all, emos)
        Ps = _matrix(sham_all, emos, "p_decoder")
        r = _vs_baseline(
            Es, Ps, emos, n_boot=n_boot, n_permutations=n_permutations, level=level, rng=rng
        )
        rows.append({"target": "sham", "condition": "sham_vs_baseline", **r})
    for target in sorted(set(es.loc[~es["sham"], "target"])):
        sel = es[(es["target"] == target) & ~es["sham"]]
        E = _matrix(sel, emos)
        if len(E) < 2:
            continue
        P = _matrix(sel, emos, "p_decoder")
        base = _vs_baseline(
            E, P, emos, n_boot=n_boot, n_permutations=n_permutations, level=level, rng=rng
        )
        rows.append({"target": target, "condition": "laser_vs_baseline", **base})
        own = es[es["sham"] & (es["target"] == target)]
        sham = own if own["epoch"].nunique() >= 2 else sham_all
        if sham["epoch"].nunique() >= 2:
            S = _matrix(sham, emos)
            diff = E.mean(axis=0) - S.mean(axis=0)
            k = int(np.argmax(diff))
            lo, hi = _boot_ci(
                (E[:, k], S[:, k]),
                lambda a, b: np.mean(a) - np.mean(b),
                n_boot=n_boot,
                level=level,
                rng=rng,
            )
            p = label_max_p(E, S, n_permutations=n_permutations, seed=rng)
            rows.append(
                {
                    "target": target,
                    "condition": "laser_vs_sham",
                    "evoked_emotion": emos[k],
                    "statistic": "mean_difference",
                    "effect": float(diff[k]),
                    "ci_low": lo,
                    "ci_high": hi,
                    "p": p,
                    "test": "label permutation (laser vs sham epochs), max over emotions, "
                    "one-sided",
                    "n_epochs": int(len(E)),
                    "confidence": base["confidence"],
                    "confidence_source": base["confidence_source"],
                }
            )
        evoked = base["evoked_emotion"]
        ev = sel[sel["emotion"] == evoked]
        for level_col in ("power", "frequency"):
            x = ev[level_col].to_numpy(np.float64)
            y = ev["effect"].to_numpy(np.float64)
            if len(x) < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
                continue
            res = spearmanr(x, y)
            rho = float(res.statistic)
            z, se = np.arctanh(np.clip(rho, -0.999999, 0.999999)), np.sqrt(1.06 / (len(x) - 3))
            zc = float(norm.ppf((1 + level) / 2))
            rows.append(
                {
                    "target": target,
                    "condition": f"dose_{level_col}",
                    "evoked_emotion": evoked,
                    "statistic": "spearman_rho",
                    "effect": rho,
                    "ci_low": float(np.tanh(z - zc * se)),
                    "ci_high": float(np.tanh(z + zc * se)),
                    "p": float(res.pvalue),
                    "test": "spearman (epochs), Fisher-z interval",
                    "n_epochs": int(len(x)),
                    "confidence": float("nan"),
                    "confidence_source": "",
                }
            )
    for condition in ("laser_vs_baseline", "laser_vs_sham"):
        _holm(rows, condition)
    out = pd.DataFrame(rows, columns=[c for c in OPTO_COLUMNS if c != "session"])
    out.insert(0, "session", session)
    return out


def laser_locked(
    frames: pd.DataFrame,
    laser: pd.DataFrame,
    *,
    emotions: Sequence[str] | None = None,
    window: tuple[float, float] = (-5.0, 10.0),
    baseline: tuple[float, float] = (-2.0, 0.0),
    n_boot: int = 1000,
    seed: int = 0,
) -> Psth:
    """Stimulus-locked strength of every prototype around laser onsets, per target.

    Returns
    -------
    Psth
        ``emotions`` holds the targets (``sham`` for sham epochs); the neuron axis holds the
        prototypes in the order of ``emotions`` (default every ``strength_<emotion>`` column
        except neutral); values are baseline-subtracted strengths.
    """
    emos = _emotions(frames, emotions)
    labels = np.where(laser["sham"].to_numpy(bool), "sham", laser["target"].to_numpy(str))
    x = frames[[f"strength_{e}" for e in emos]].to_numpy(np.float64).T
    return psth(
        x,
        frames["time"].to_numpy(np.float64),
        laser["onset"].to_numpy(np.float64),
        labels.tolist(),
        window=window,
        baseline=baseline,
        n_boot=n_boot,
        seed=seed,
    )
