"""Neuron statistics: dF/F, shuffle correlation (uniform p under the null), BH, PSTH,
selectivity, population decoding and agreement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter
from scipy.stats import false_discovery_control, kstest

from mouseface.errors import InputError
from mouseface.neural import (
    agreement,
    bh_q,
    decode_emotion,
    dff,
    psth,
    running_percentile,
    selectivity,
    shuffle_correlation,
    trial_responses,
)


def test_running_percentile_fast_matches_exact():
    rng = np.random.default_rng(0)
    t = np.arange(6000) / 15.0
    x = 500 * np.exp(-t / 300)[None, :] * (1 + 0.05 * rng.standard_normal((3, 6000)))
    fast = running_percentile(x, window=900, percentile=8)
    exact = running_percentile(x, window=900, percentile=8, exact=True)
    assert np.max(np.abs(fast - exact) / exact) < 0.01


def test_dff_recovers_transients_under_neuropil_and_drift():
    rng = np.random.default_rng(1)
    n_t, rate = 9000, 15.0
    t = np.arange(n_t) / rate
    true = np.zeros(n_t)
    for s in rng.uniform(0, t[-1], 40):
        true += 0.5 * np.exp(-np.clip(t - s, 0, None) / 0.7) * (t >= s)
    neu = 200 * (1 + 0.3 * np.sin(2 * np.pi * t / 50))
    F = 400 * np.exp(-t / 2000) * (1 + true) + 0.7 * neu
    out = dff(F[None], rate=rate, neuropil=neu[None], r=0.7, window=60)[0]
    # the percentile baseline sits slightly above the true baseline when transients are dense
    assert np.corrcoef(out, true)[0, 1] > 0.99
    assert np.median(np.abs(out - true)) < 0.05
    with pytest.raises(InputError, match="lower the neuropil coefficient"):
        dff(F[None], rate=rate, neuropil=10 * neu[None], source="plane0")


def test_shuffle_r_matches_pearson_and_shifts():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 500))
    f = rng.standard_normal((500, 2))
    res = shuffle_correlation(x, f, rate=10.0, n_shuffles=100)
    ref = np.array([[np.corrcoef(x[i], f[:, j])[0, 1] for j in range(2)] for i in range(4)])
    np.testing.assert_allclose(res.r, ref, atol=1e-12)
    assert res.p.shape == (4, 2) and np.all((res.p > 0) & (res.p <= 1))
    assert res.min_shift.tolist() == [50, 50] and res.n_samples == 500
    assert np.isinf(res.drift_window).all()  # 50 s of data: shorter than the 60-s high-pass
    f[:10, 0] = np.nan  # NaN face samples are dropped from all
    assert shuffle_correlation(x, f, rate=10.0, n_shuffles=10).n_samples == 490


def test_shuffle_detects_a_real_correlation():
    rng = np.random.default_rng(3)
    f = lfilter([1.0], [1, -0.95], rng.standard_normal(3000))
    x = np.vstack([0.3 * f + rng.standard_normal(3000), rng.standard_normal(3000)])
    res = shuffle_correlation(x, f, rate=15.0, n_shuffles=1000, alternative="greater")
    assert res.p[0, 0] < 0.01 and res.p[1, 0] > 0.01


@pytest.mark.parametrize("seed", [0, 1])
def test_shuffle_p_uniform_under_null(seed):
    """Independent autocorrelated traces: p ~ U(0, 1) and BH finds (almost) nothing."""
    rng = np.random.default_rng(seed)
    n, t = 400, 2000
    x = lfilter([1.0], [1, -0.9], rng.standard_normal((n, t)), axis=1)
    f = lfilter([1.0], [1, -0.9], rng.standard_normal(t))
    res = shuffle_correlation(x, f, rate=10.0, n_shuffles=1000, seed=seed)
    p = res.p[:, 0]
    assert kstest(p, "uniform").pvalue > 0.01
    assert np.mean(p <= 0.05) < 0.1
    q = bh_q(p)
    np.testing.assert_allclose(q, false_discovery_control(p, method="bh"))
    assert np.sum(q <= 0.05) <= 4


def test_bh_q_keeps_nan():
    q = bh_q(np.array([[0.01, np.nan], [0.04, 0.5]]))
    assert np.isnan(q[0, 1]) and q.shape == (2, 2)
    np.testing.assert_allclose(q[[0, 1, 1], [0, 0, 1]], [0.03, 0.06, 0.5])


def _trials(rng, n_per=8, emotions=("a", "b", "c")):
    labels = np.repeat(emotions, n_per)
    rng.shuffle(labels)
    onsets = 10.0 + 12.0 * np.arange(len(labels))
    return onsets, labels


def _traces(rng, onsets, labels, tuning, rate=10.0, noise=0.1):
    t = np.arange(0, onsets[-1] + 20, 1 / rate)
    x = noise * rng.standard_normal((len(tuning), len(t)))
    for o, lab in zip(onsets, labels, strict=True):
        win = (t >= o) & (t < o + 2)
        for i, pref in enumerate(tuning):
            if pref == lab or pref == "all":
                x[i, win] += 1.0
    return t, x


def test_responses_psth_selectivity():
    rng = np.random.default_rng(4)
    onsets, labels = _trials(rng)
    t, x = _traces(rng, onsets, labels, ["a", "b", "all", "none"])
    resp = trial_responses(x, t, onsets)
    assert resp.shape == (24, 4)
    assert np.allclose(resp[labels == "a", 0], 1.0, atol=0.15)
    assert np.allclose(resp[labels == "b", 0], 0.0, atol=0.15)
    si, pref = selectivity(resp, labels)
    assert pref[0] == "a" and pref[1] == "b"
    assert si[0] > 0.9 and si[1] > 0.9 and si[2] < 0.15
    ps = psth(x, t, onsets, labels, window=(-2, 4), n_boot=200)
    assert ps.emotions == ("a", "b", "c") and ps.n_trials.tolist() == [8, 8, 8]
    k = list(ps.lags).index(min(ps.lags, key=lambda v: abs(v - 1.0)))
    assert ps.mean[0, 0, k] == pytest.approx(1.0, abs=0.15)
    assert ps.low[0, 0, k] <= ps.mean[0, 0, k] <= ps.high[0, 0, k]
    assert ps.high[1, 0, k] - ps.low[1, 0, k] < 0.3
    assert abs(ps.mean[1, 0, k]) < 0.15


def test_decoding_and_agreement():
    rng = np.random.default_rng(5)
    onsets, labels = _trials(rng, n_per=10)
    t, x = _traces(rng, onsets, labels, ["a", "b", "c"] * 3 + ["none"] * 5, noise=0.5)
    resp = trial_responses(x, t, onsets)
    dec = decode_emotion(resp, labels, n_splits=3, n_permutations=10)
    assert dec.balanced_accuracy > 0.9 and dec.chance < 0.5
    assert dec.balanced_accuracy > dec.chance_high and dec.p == pytest.approx(1 / 11)
    assert dec.cv == "StratifiedKFold(3)"
    rand = decode_emotion(rng.standard_normal(resp.shape), labels, n_splits=3, n_permutations=10)
    assert rand.balanced_accuracy < 0.7
    sess = decode_emotion(resp, labels, groups=np.repeat(["s1", "s2"], 15), n_permutations=3)
    assert sess.cv == "LeaveOneGroupOut"
    agr = agreement(labels.tolist(), dec.predicted.tolist())
    assert agr.fraction == pytest.approx(np.mean(dec.predicted == labels))
    assert agr.n_trials == 30 and agr.kappa > 0.8
    with pytest.raises(InputError, match=">= 2 trials of every emotion"):
        decode_emotion(resp[:4], ["a", "a", "a", "b"])


def test_neurons_table_rejects_non_overlapping_clocks():
    import pandas as pd

    from mouseface.neural import NeuralRecording, neurons_table

    rng = np.random.default_rng(6)
    rec = NeuralRecording(
        traces=rng.standard_normal((3, 600)),
        times=5000.0 + np.arange(600) / 10.0,
        neuron=np.arange(3),
        plane=np.zeros(3),
        kind="dff",
        source="rec.nwb",
    )
    frames = pd.DataFrame({"time": np.arange(1200) / 20.0, "strength_pain": np.zeros(1200)})
    trials = pd.DataFrame({"onset": [10.0], "emotion": ["pain"]})
    with pytest.raises(InputError, match=r"rec\.nwb: imaging covers .* not aligned"):
        neurons_table(rec, frames, trials, session="s")
    raw = NeuralRecording(
        traces=rec.traces + 10, times=rec.times, neuron=rec.neuron, plane=rec.plane, kind="F",
        source="rec.nwb",
    )  # fmt: skip
    with pytest.raises(InputError, match="need dF/F"):
        neurons_table(raw, frames, trials, session="s")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=60))
def test_bh_q_properties(p):
    p = np.asarray(p)
    q = bh_q(p)
    assert np.all(q >= p - 1e-12) and np.all(q <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-12)  # monotone in p
