"""Statistics of the science analyses (mouseface.stats and the private helpers of the
intensity and state analyses) on synthetic numbers with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface import stats
from mouseface.decoding.intensity import (
    leave_one_group_out_scores,
    strong_none_labels,
    trial_features,
)
from mouseface.errors import InputError
from mouseface.expression.readout import baseline_frames, projection


def test_percentile_ci_bounds_and_degenerate_input():
    lo, hi = stats.percentile_ci(np.arange(1001.0), ci=0.9)
    assert lo == pytest.approx(50.0) and hi == pytest.approx(950.0)
    assert np.isnan(stats.percentile_ci(np.array([1.0, np.nan]))[0])
    with pytest.raises(InputError, match="ci"):
        stats.percentile_ci(np.arange(100.0), ci=1.5)


def test_percentile_ci_of_no_replicate_is_nan():
    # a valence contrast with no trial to resample crashed np.quantile (IndexError, exit 1)
    assert all(np.isnan(stats.percentile_ci(np.array([]))))
    lo, hi = stats.percentile_ci(np.zeros((3, 0)), axis=1)
    assert lo.shape == hi.shape == (3,) and np.isnan(lo).all() and np.isnan(hi).all()


def test_percentile_ci_along_an_axis_and_minimum_count():
    s = np.array([[1.0, np.nan], [3.0, np.nan], [np.inf, 5.0]])
    lo, hi = stats.percentile_ci(s, ci=0.5, axis=0, min_finite=1)
    assert lo[0] == pytest.approx(1.5) and hi[0] == pytest.approx(2.5)
    assert lo[1] == pytest.approx(5.0)  # one finite replicate is enough with min_finite=1
    lo, hi = stats.percentile_ci(s, ci=0.5, axis=0, min_finite=2)
    assert np.isnan(lo[1]) and np.isnan(hi[1]) and np.isfinite(lo[0])
    # the flat form counts at least 10 finite replicates by default
    assert np.isnan(stats.percentile_ci(np.arange(9.0))[0])
    assert np.isfinite(stats.percentile_ci(np.arange(10.0))[0])


def test_percentile_interval_is_percentile_ci():
    from mouseface.stats.bootstrap import percentile_interval

    s = np.random.default_rng(0).normal(size=(500, 3))
    a = percentile_interval(s, level=0.8)
    b = stats.percentile_ci(s, ci=0.8, axis=0)
    assert np.allclose(a, b) and np.allclose(a[0], np.quantile(s, 0.1, axis=0))
    with pytest.raises(InputError, match="level"):
        percentile_interval(s, level=1.5)


def test_mean_ci_matches_a_hand_bootstrap_and_degenerate_input():
    v = np.random.default_rng(3).normal(2.0, 1.0, 25)
    lo, hi = stats.mean_ci(v, n_boot=3000, ci=0.9, seed=4)
    # the same draws by hand: scipy.stats.bootstrap resamples with rng.integers(0, n, (B, n))
    idx = np.random.default_rng(4).integers(0, v.size, (3000, v.size))
    assert (lo, hi) == pytest.approx(tuple(np.percentile(v[idx].mean(1), [5, 95])))
    assert lo < v.mean() < hi
    assert np.isnan(stats.mean_ci(np.array([1.0, np.nan]))[0])  # < 2 finite values
    assert stats.mean_ci(np.ones(5)) == (1.0, 1.0)  # constant: a zero-width interval


def test_spearman_monotone_ties_and_constant():
    x = np.arange(8.0)
    assert stats.spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert stats.spearman(x, -(x**3)) == pytest.approx(-1.0)
    assert np.isnan(stats.spearman(x, np.ones(8)))
    # ties get average ranks: [0, 0, 1, 1] vs [1, 2, 3, 4] -> r of ranks [1.5,1.5,3.5,3.5]
    assert stats.spearman([0, 0, 1, 1], [1, 2, 3, 4]) == pytest.approx(2 / np.sqrt(5), abs=1e-12)


def test_spearman_ci_interval_and_exact_p():
    rng = np.random.default_rng(1)
    x = np.repeat([0.0, 50, 150, 300, 500], 6)
    y = x / 500 + rng.normal(0, 0.15, x.size)
    e = stats.spearman_ci(x, y, n_boot=500, seed=0)
    assert e.ci_low <= e.value <= e.ci_high and e.n == 30
    assert e.value > 0.7 and e.p < 1e-4
    # n = 5, perfectly monotone: exact permutation p = 2 / 5! (both tails)
    small = stats.spearman_ci(np.arange(5.0), np.arange(5.0) ** 2, n_boot=200)
    assert small.value == pytest.approx(1.0) and small.p == pytest.approx(2 / 120)
    # with 6 pairs some resamples have a constant x: they are dropped, not a NaN interval
    few = stats.spearman_ci([1.0, 2, 3, 1, 2, 3], [1.0, 2, 3, 2, 1, 4], n_boot=300)
    assert np.isfinite(few.ci_low) and few.ci_low < few.value <= few.ci_high
    with pytest.raises(InputError, match="at least 3 pairs"):
        stats.spearman_ci([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(InputError, match="varying"):
        stats.spearman_ci(np.ones(5), np.arange(5.0))


def _mixed_data(rng, *, n_animals=5, slope=0.5, state_effect=0.0):
    rows = []
    offsets = rng.normal(0, 1.0, n_animals)
    for a, offset in enumerate(offsets):
        for x in np.repeat([0.0, 1, 2, 3], 5):
            state = rng.integers(0, 2)
            y = 2 + slope * x + offset + state_effect * state + rng.normal(0, 0.3)
            rows.append({"animal": f"m{a}", "x": x, "y": y, "state": state})
    return pd.DataFrame(rows), offsets


def test_mixed_slope_recovers_the_slope_with_animal_offsets():
    df, offsets = _mixed_data(np.random.default_rng(2), state_effect=1.0)
    m = stats.mixed_slope(df["y"], df["x"], df["animal"], covariates=df[["state"]].to_numpy())
    assert m.ci_low < 0.5 < m.ci_high
    assert abs(m.slope - 0.5) < 0.1 and m.p < 1e-6
    assert m.n == len(df) and m.n_groups == 5
    # the animal offsets are the random effect
    assert m.group_sd == pytest.approx(offsets.std(ddof=1), rel=0.3)


def test_mixed_slope_needs_two_animals_and_two_intensities():
    df, _ = _mixed_data(np.random.default_rng(3), n_animals=1)
    with pytest.raises(InputError, match="at least 2 animals"):
        stats.mixed_slope(df["y"], df["x"], df["animal"])
    df, _ = _mixed_data(np.random.default_rng(3))
    with pytest.raises(InputError, match="2 distinct intensities"):
        stats.mixed_slope(df["y"], np.ones(len(df)), df["animal"])


def test_paired_tests_and_effect_size():
    a = np.array([1.5, 2.1, 2.9, 4.2, 5.0])
    b = a - np.array([0.9, 1.1, 1.0, 1.2, 0.8])
    out = stats.paired_tests(a, b)
    d = a - b
    assert out["dz"] == pytest.approx(d.mean() / d.std(ddof=1))
    assert out["p_t"] < 0.001 and out["n"] == 5
    assert out["p_wilcoxon"] == pytest.approx(2 / 32)  # exact, all 5 differences positive
    same = stats.paired_tests(a, a)
    assert np.isnan(same["p_t"]) and np.isnan(same["p_wilcoxon"])
    with pytest.raises(InputError, match="at least 2 pairs"):
        stats.paired_tests([1.0], [2.0])


def test_paired_means_are_balanced_over_shared_intensities():
    # animal 0: state A has mostly intensity 1 trials, state B mostly intensity 2 trials
    a = [np.array([1.0, 1.0, 1.0, 2.0]), np.array([2.0, 4.0])]
    a_s = [np.array([1, 1, 1, 2]), np.array([1, 2])]
    b = [np.array([0.5, 1.0, 1.0, 1.0, 9.0]), np.array([1.0, 2.0])]
    b_s = [np.array([1, 2, 2, 2, 3]), np.array([1, 2])]  # intensity 3 only in B: ignored
    ma, mb, kept = stats.paired_animal_means(a, b, a_strata=a_s, b_strata=b_s)
    np.testing.assert_allclose(ma, [1.5, 3.0])
    np.testing.assert_allclose(mb, [0.75, 1.5])
    np.testing.assert_array_equal(kept, [0, 1])


def test_hierarchical_paired_recovers_a_known_ratio():
    rng = np.random.default_rng(4)
    gains = rng.lognormal(0, 0.3, 6)
    a = [g * 1.5 * rng.lognormal(0, 0.1, 8) for g in gains]
    b = [g * rng.lognormal(0, 0.1, 8) for g in gains]
    out = stats.hierarchical_paired(a, b, n_boot=1000, seed=0)
    r = out["ratio"]
    assert r.ci_low < 1.5 < r.ci_high and abs(r.value - 1.5) < 0.15 and r.n == 6
    assert out["diff"].ci_low > 0
    with pytest.raises(InputError, match="at least 2 animals"):
        stats.hierarchical_paired(a[:1], b[:1])


def test_roc_auc_and_interval():
    y = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    assert stats.roc_auc(y, np.arange(6.0)) == 1.0
    assert stats.roc_auc(y, -np.arange(6.0)) == 0.0
    assert stats.roc_auc(y, np.ones(6)) == 0.5
    assert np.isnan(stats.roc_auc(np.ones(3, bool), np.arange(3.0)))
    rng = np.random.default_rng(5)
    yy = np.repeat([False, True], 40)
    s = yy + rng.normal(0, 0.8, 80)
    e = stats.auc_ci(yy, s, groups=np.tile(["a", "b"], 40), n_boot=500)
    assert e.ci_low < e.value < e.ci_high and 0.7 < e.value < 0.95 and e.p < 0.001
    with pytest.raises(InputError, match="both classes"):
        stats.auc_ci(np.ones(4, bool), np.arange(4.0))


def test_projection_is_the_amplitude_along_the_prototype_direction():
    rng = np.random.default_rng(6)
    neutral = rng.random(64)
    protos = rng.random((2, 64))
    amps = np.linspace(-0.5, 2.0, 11)
    hog = neutral + amps[:, None] * (protos[0] - neutral)
    np.testing.assert_allclose(projection(hog, neutral, protos[0]), amps, atol=1e-12)
    two = projection(hog, neutral, protos)
    assert two.shape == (11, 2)
    np.testing.assert_allclose(two[:, 0], amps, atol=1e-12)
    with pytest.raises(InputError, match="equals the neutral"):
        projection(hog, neutral, neutral)


def test_baseline_frames_are_the_union_of_good_baseline_windows():
    times = np.arange(0, 10, 0.5)
    good = np.ones(times.size, bool)
    good[4] = False  # t = 2.0
    idx = baseline_frames(times, np.array([3.0, 8.0]), (-1.0, 0.0), good)
    np.testing.assert_allclose(times[idx], [2.5, 7.0, 7.5])
    with pytest.raises(InputError, match="baseline"):
        baseline_frames(times, np.array([100.0]), (-1.0, 0.0), good)


def test_trial_features_measure_a_step_against_the_baseline():
    t = np.arange(0, 6, 0.05)
    x = np.where(t >= 3.0, 2.0, 0.5) + np.where((t >= 4.0) & (t < 4.5), 1.0, 0.0)
    f = trial_features(t, {"x": x}, np.ones(t.size, bool), 3.0,
                       baseline=(-2.0, 0.0), response=(0.0, 2.0))  # fmt: skip
    assert f["x_mean"] == pytest.approx(1.5 + 0.25)
    assert f["x_peak"] == pytest.approx(2.5)
    assert [f[f"x_t{k}"] for k in (1, 2, 3, 4)] == pytest.approx([1.5, 1.5, 2.5, 1.5])


def test_leave_one_animal_out_decoder_separates_and_scores_every_trial():
    rng = np.random.default_rng(7)
    intensity = np.tile([0.0, 50, 150, 300, 500], 12)
    groups = np.repeat(["a", "b", "c"], 20)
    shift = np.repeat([0.0, 0.3, -0.2], 20)  # animals differ in baseline
    X = np.column_stack([intensity / 500 + shift + rng.normal(0, 0.05, 60), rng.normal(size=60)])
    use, strong = strong_none_labels(intensity, strong_min=300, none_max=0)
    assert use.sum() == 36 and strong.sum() == 24
    scores, folds = leave_one_group_out_scores(X, strong, groups, train=use)
    assert np.isfinite(scores).all() and list(folds["held_out"]) == ["a", "b", "c"]
    for g in "abc":  # within each held-out animal the classes separate
        sel = use & (groups == g)
        assert stats.roc_auc(strong[sel], scores[sel]) == 1.0
        # intermediate intensities, never trained on, are scored in order
        assert stats.spearman(intensity[groups == g], scores[groups == g]) > 0.9
    with pytest.raises(InputError, match="at least 2 animals"):
        leave_one_group_out_scores(X[:20], strong[:20], groups[:20])
    only_a = use & ((groups == "a") | ~strong)
    with pytest.raises(InputError, match="one class only"):
        leave_one_group_out_scores(X, strong, groups, train=only_a)
    with pytest.raises(InputError, match="greater than"):
        strong_none_labels(intensity, strong_min=0, none_max=0)
