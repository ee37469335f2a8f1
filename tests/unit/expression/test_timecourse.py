"""Stimulus-locked traces and the rise-then-decay fit (mouseface.expression.timecourse) on
synthetic traces with known parameters."""

from __future__ import annotations

import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.expression.timecourse import (
    bootstrap_rise_decay,
    empirical_peak,
    fit_rise_decay,
    locked_matrix,
    mean_ci,
    rise_decay,
)

FPS = 20.0


def _traces(rng, *, n=12, amp=0.8, lat=0.1, rise=0.3, decay=2.0, drives=None, span=(-2, 12),
            noise=0.08):  # fmt: skip
    t = span[0] + np.arange(int((span[1] - span[0]) * FPS) + 1) / FPS
    drives = np.full(n, 1.0) if drives is None else np.asarray(drives, float)
    gains = rng.lognormal(0, 0.1, n)
    M = np.stack([
        g * rise_decay(t, amplitude=amp, latency=lat, rise=rise, decay=decay, drive=d)
        for g, d in zip(gains, drives, strict=True)
    ])  # fmt: skip
    return t, M + rng.normal(0, noise, M.shape), drives


def test_model_shape_latency_peak_and_decay():
    t = np.array([-1.0, 0.1, 0.6, 1.1, 3.1])
    y = rise_decay(t, amplitude=2.0, latency=0.1, rise=0.5, decay=2.0, drive=1.0)
    peak = 2.0 * (1 - np.exp(-1.0 / 0.5))
    np.testing.assert_allclose(y, [0, 0, 2 * (1 - np.exp(-1)), peak, peak * np.exp(-1)])
    # per-trial drives broadcast
    assert rise_decay(np.ones((2, 1)), amplitude=1, latency=0, rise=1, decay=1,
                      drive=np.array([[0.5], [2.0]])).shape == (2, 1)  # fmt: skip


def test_fit_recovers_known_parameters():
    t, M, drives = _traces(np.random.default_rng(0))
    fit = fit_rise_decay(t, M, drives=drives)
    assert fit.drive_fixed and fit.drive == 1.0 and fit.n_trials == 12
    assert fit.decay == pytest.approx(2.0, rel=0.1)
    assert fit.rise == pytest.approx(0.3, rel=0.2)
    assert fit.latency == pytest.approx(0.1, abs=0.05)
    assert fit.peak_time == pytest.approx(1.1, abs=0.05)
    assert fit.r2 > 0.5 and fit.observed_decay > 9


def test_fit_with_varying_drives_and_with_unknown_drive():
    rng = np.random.default_rng(1)
    t, M, drives = _traces(rng, drives=rng.uniform(2.5, 4.0, 12), decay=1.5, rise=0.5, lat=0.2)
    fit = fit_rise_decay(t, M, drives=drives)
    assert fit.decay == pytest.approx(1.5, rel=0.1)
    t, M, _ = _traces(np.random.default_rng(2), drives=np.full(12, 2.0), decay=1.5)
    free = fit_rise_decay(t, M, drives=None)
    assert not free.drive_fixed and free.drive == pytest.approx(2.0, abs=0.2)
    assert free.decay == pytest.approx(1.5, rel=0.15)


def test_bootstrap_intervals_cover_the_truth():
    t, M, drives = _traces(np.random.default_rng(3))
    fit, iv = bootstrap_rise_decay(t, M, drives=drives, n_boot=100, seed=0)
    assert iv["decay"][0] < 2.0 < iv["decay"][1]
    assert iv["decay"][0] < fit.decay < iv["decay"][1]
    assert iv["latency"][0] <= fit.latency <= iv["latency"][1]
    assert np.isnan(iv["drive"][0]) or iv["drive"][0] == iv["drive"][1] == 1.0


def test_a_decay_much_longer_than_the_data_is_open_above():
    # 15 s of data after the peak, true decay 1000 s: only a lower bound is measurable
    t, M, drives = _traces(np.random.default_rng(4), decay=1000.0, drives=np.full(8, 5.0),
                           span=(-2, 20), n=8, noise=0.05)  # fmt: skip
    fit, iv = bootstrap_rise_decay(t, M, drives=drives, n_boot=100, seed=0)
    assert fit.observed_decay < 20 and fit.decay > 60
    assert iv["decay"][0] > 40 and iv["decay"][1] > 1000  # inf when a rate of 0 fits


def test_no_resample_with_a_visible_decay_gives_an_open_interval(monkeypatch):
    # every resample fitting a decay rate of 0 made 1 / r_hi divide by zero (an exit-1 crash)
    import mouseface.expression.timecourse as tc

    t, M, drives = _traces(np.random.default_rng(4), n=8)
    monkeypatch.setattr(tc, "percentile_ci", lambda v, ci=0.95: (0.0, 0.0))
    _, iv = tc.bootstrap_rise_decay(t, M, drives=drives, n_boot=20, seed=0)
    assert iv["decay"] == (float("inf"), float("inf"))


def test_fit_needs_two_trials():
    t, M, drives = _traces(np.random.default_rng(5), n=2)
    with pytest.raises(InputError, match="at least 2 trials"):
        fit_rise_decay(t, M[:1], drives=drives[:1])


def test_locked_matrix_bins_cuts_and_skips_bad_frames():
    times = np.arange(0, 10, 0.1)
    values = times.copy()
    good = np.ones(times.size, bool)
    good[31] = False  # t = 3.1
    t, M = locked_matrix(times, values, np.array([3.0, 6.0]), span=(-1.0, 1.0), fps=10,
                         stops=np.array([3.5, np.inf]), good=good)  # fmt: skip
    np.testing.assert_allclose(t, np.linspace(-1.0, 1.0, 21), atol=1e-12)
    np.testing.assert_allclose(M[1], np.arange(5.0, 7.01, 0.1))
    assert np.isnan(M[0, 11]) and M[0, 12] == pytest.approx(3.2)  # bad frame
    assert np.isnan(M[0, 15:]).all() and M[0, 14] == pytest.approx(3.4)  # cut at the stop
    with pytest.raises(InputError):
        locked_matrix(times, values, np.array([1.0]), span=(1.0, 0.0), fps=10)


def test_mean_ci_and_empirical_peak():
    rng = np.random.default_rng(6)
    t = np.arange(-1, 5, 0.05)
    shape = np.exp(-0.5 * ((t - 1.5) / 0.3) ** 2)
    M = shape[None, :] * rng.lognormal(0, 0.1, 20)[:, None] + rng.normal(0, 0.02, (20, t.size))
    M[3, 50:] = np.nan
    mean, lo, hi, n = mean_ci(M, n_boot=300)
    assert n[0] == 20 and n[60] == 19
    np.testing.assert_allclose(mean, np.nanmean(M, axis=0))
    assert np.all(lo <= mean + 1e-12) and np.all(hi >= mean - 1e-12)
    pk = empirical_peak(t, M, n_boot=300)
    assert pk["peak_time"][0] == pytest.approx(1.5, abs=0.06)
    assert pk["peak_time"][1] - 1e-9 <= 1.5 <= pk["peak_time"][2] + 1e-9
    assert pk["peak"][1] < pk["peak"][0] < pk["peak"][2]
    const = mean_ci(np.ones((5, 4)), n_boot=100)
    np.testing.assert_allclose(const[1], 1.0)
    np.testing.assert_allclose(const[2], 1.0)
