"""Unit tests of valence/arousal (mouseface.expression.affect) and strength calibration
(mouseface.expression.calibration)."""

from __future__ import annotations

import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.expression.affect import (
    arousal,
    hierarchical_mean_ci,
    locked_average,
    normalised_strength,
    valence,
)
from mouseface.expression.calibration import (
    baseline_z,
    bootstrap_prototypes,
    neutral_drift,
    robust_sd,
    strength_uncertainty,
)
from mouseface.expression.prototypes import pearson_matrix


def test_normalised_strength_zero_at_baseline_one_at_prototype() -> None:
    s = np.array([[0.8, 0.6], [0.8, 0.6], [0.9, 0.6], [1.0, 0.2]])
    base = np.array([True, True, False, False])
    u = normalised_strength(s, base)
    np.testing.assert_allclose(u[:2], 0.0)
    np.testing.assert_allclose(u[2], [0.5, 0.0])
    np.testing.assert_allclose(u[3], [1.0, -1.0])
    with pytest.raises(InputError, match="baseline"):
        normalised_strength(s, np.zeros(4, bool))


def test_valence_best_positive_minus_best_negative() -> None:
    u = np.array([[0.6, 0.1, 0.2], [0.0, 0.7, 0.3], [-0.5, -0.2, 0.1], [0.0, 0.0, 0.0]])
    v = valence(u, positive=[0], negative=[1, 2])
    np.testing.assert_allclose(v, [0.6 - 0.2, -0.7, -0.1, 0.0])
    # a prototype the face moves away from (u < 0) is not evidence of the opposite pole
    assert valence(np.array([[-0.9, 0.0]]), positive=[1], negative=[0])[0] == 0.0
    np.testing.assert_allclose(valence(u, positive=[], negative=[1]), -np.clip(u[:, 1], 0, None))
    with pytest.raises(InputError, match="both"):
        valence(u, positive=[0], negative=[0])
    with pytest.raises(InputError, match="at least one"):
        valence(u, positive=[], negative=[])


def test_arousal_scales_distance_from_neutral() -> None:
    change = np.array([0.01, 0.01, 0.01, 0.06, 0.11])
    base = np.array([True, True, True, False, False])
    np.testing.assert_allclose(arousal(change, base, scale=0.1), [0, 0, 0, 0.5, 1.0])
    with pytest.raises(InputError, match="scale"):
        arousal(change, base, scale=0.0)


def test_locked_average_recovers_a_stimulus_locked_shape() -> None:
    t = np.arange(0, 60, 0.05)
    onsets = [10.0, 30.0, 45.0]
    y = np.zeros_like(t)
    for o in onsets:
        y += np.where((t >= o) & (t < o + 2), 1.0, 0.0)
    grid, m = locked_average(t, np.stack([y, 2 * y], 1), onsets, span=(-1, 3), step=0.5)
    np.testing.assert_allclose(grid, np.arange(-1, 3.01, 0.5))
    np.testing.assert_allclose(m[:, 0], [0, 0, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_allclose(m[:, 1], 2 * m[:, 0])
    # beyond the end of the video: no frame, NaN
    grid, m = locked_average(t, y, [59.0], span=(0, 3), step=1.0)
    assert np.isnan(m[-1, 0]) and np.isfinite(m[0, 0])


def test_hierarchical_mean_ci_covers_group_mean() -> None:
    rng = np.random.default_rng(1)
    groups = np.repeat(["a", "b", "c", "d", "e"], 20)
    values = rng.normal(1.0, 0.3, 100) + np.repeat(rng.normal(0, 0.2, 5), 20)
    m, lo, hi = hierarchical_mean_ci(values, groups, n_boot=500)
    assert lo < m < hi
    assert m == pytest.approx(np.mean([values[groups == g].mean() for g in "abcde"]))
    with pytest.raises(InputError, match="finite"):
        hierarchical_mean_ci(np.array([np.nan]), np.array(["a"]))


def test_bootstrap_prototypes_and_strength_uncertainty() -> None:
    rng = np.random.default_rng(2)
    frames = rng.uniform(0, 1, (10, 32))
    boots = bootstrap_prototypes(frames, n_boot=300, rng=rng)
    assert boots.shape == (300, 32) and boots.dtype == np.float32
    np.testing.assert_allclose(boots.mean(0), frames.mean(0), atol=0.03)
    hog = rng.uniform(0, 1, (5, 32))
    sd, lo, hi = strength_uncertainty(hog, boots[None], ci=0.9)
    assert sd.shape == lo.shape == (5, 1) and (sd > 0).all() and (lo < hi).all()
    r = pearson_matrix(hog, frames.mean(0)[None])
    assert ((lo <= r + 0.02) & (r - 0.02 <= hi)).all()
    # identical frames: the prototype is exact, the strength has no uncertainty
    same = bootstrap_prototypes(np.tile(frames[:1], (10, 1)), n_boot=20)
    sd0, _, _ = strength_uncertainty(hog, same[None])
    np.testing.assert_allclose(sd0, 0.0, atol=1e-6)
    with pytest.raises(InputError, match="2 prototype frames"):
        bootstrap_prototypes(frames[:1])


def test_robust_sd_and_baseline_z() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2.0, 20000)
    assert robust_sd(x) == pytest.approx(2.0, rel=0.05)
    s = np.array([[0.5], [0.7], [0.6], [0.9]])
    z = baseline_z(s, np.array([True, True, True, False]), np.array([0.1]))
    np.testing.assert_allclose(z[:, 0], [-1, 1, 0, 3], atol=1e-6)
    with pytest.raises(InputError, match="positive"):
        baseline_z(s, np.ones(4, bool), np.array([0.0]))


def test_neutral_drift_grows_with_a_changed_face() -> None:
    rng = np.random.default_rng(4)
    ref = rng.uniform(0, 1, 64)
    same = ref + rng.normal(0, 0.02, (50, 64))
    moved = np.roll(ref, 3) * 0.5 + ref * 0.5 + rng.normal(0, 0.02, (50, 64))
    d0, lo0, hi0 = neutral_drift(same, ref, n_boot=200)
    d1, lo1, hi1 = neutral_drift(moved, ref, n_boot=200)
    assert 0 <= d0 < 0.01 and lo0 <= hi0
    assert d1 > 10 * d0 and lo1 > hi0


def test_bootstrap_prototypes_equals_explicit_resampling():
    rng_data = np.random.default_rng(3)
    frames = rng_data.random((30, 12))
    got = bootstrap_prototypes(frames, n_boot=50, rng=np.random.default_rng(7))
    idx = np.random.default_rng(7).integers(0, 30, size=(50, 30))
    np.testing.assert_allclose(got, frames[idx].mean(axis=1), rtol=1e-5)
