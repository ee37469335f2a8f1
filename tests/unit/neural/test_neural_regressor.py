"""The calcium-kernel regressor, the face trace's decorrelation shifts, the adaptive high-pass,
and the long dF/F baseline that keeps a minutes-long state."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from mouseface.errors import InputError
from mouseface.neural import dff, shuffle_correlation
from mouseface.neural.correlation import decorrelation_lag
from mouseface.neural.indicator import calcium_regressor

RATE = 15.0


def _calcium(drive: np.ndarray, rng: np.random.Generator, *, decay: float = 0.8) -> np.ndarray:
    """dF/F of a neuron spiking at ``6 Hz x drive``: Poisson spikes through an exponential
    kernel (0.25 per spike) plus noise."""
    spikes = rng.poisson(np.clip(6.0 * drive, 0, None) / RATE)
    a = np.exp(-1.0 / (RATE * decay))
    return 0.25 * lfilter([1.0], [1.0, -a], spikes) + 0.05 * rng.standard_normal(len(drive))


def _fast_face(n: int, rng: np.random.Generator) -> np.ndarray:
    """A face strength of 2-s expressions every ~12 s (mean 0.7 at rest, like a strength r)."""
    t = np.arange(n) / RATE
    f = np.zeros(n)
    for on in (
        np.arange(10.0, t[-1] - 5, 12.0)
        + rng.uniform(0, 2, int((t[-1] - 15) // 12) + 1)[: len(np.arange(10.0, t[-1] - 5, 12.0))]
    ):
        f += rng.uniform(0.5, 1.0) * ((t >= on) & (t < on + 2.0))
    return 0.7 + 0.2 * f + 0.01 * rng.standard_normal(n)


def test_kernel_regressor_raises_r_on_a_calcium_trace():
    rng = np.random.default_rng(0)
    face = _fast_face(int(300 * RATE), rng)
    cells = np.vstack([_calcium(face - 0.7, rng) for _ in range(20)])
    raw = shuffle_correlation(cells, face, rate=RATE, n_shuffles=200, drift_window=None)
    conv = shuffle_correlation(
        cells, calcium_regressor(face, rate=RATE, decay=1.0), rate=RATE, n_shuffles=200,
        drift_window=None,
    )  # fmt: skip
    assert np.median(conv.r - raw.r) > 0.05
    assert (conv.r > raw.r).mean() >= 0.9


def test_kernel_regressor_is_causal_and_keeps_nan():
    x = np.zeros(100)
    x[50:] = 1.0
    x[:5] = np.nan
    y = calcium_regressor(x, rate=10.0, decay=1.0)
    assert np.isnan(y[:5]).all() and np.allclose(y[5:50], 0.0)  # nothing before the step
    assert y[59] == pytest.approx(1 - np.exp(-1), abs=0.02)  # 63 % after one decay time
    np.testing.assert_array_equal(calcium_regressor(x, rate=10.0, decay=0.0)[5:], x[5:])
    two = calcium_regressor(np.column_stack([x, 2 * x]), rate=10.0, decay=1.0)
    np.testing.assert_allclose(two[5:, 1], 2 * y[5:])
    with pytest.raises(InputError, match="indicator_decay"):
        calcium_regressor(x, rate=10.0, decay=-1.0)


def _malaise_session(rng: np.random.Generator, *, amp: float) -> tuple[np.ndarray, np.ndarray]:
    """A 205-s session whose last 85 s hold one slow state (as LiCl malaise; the face trace
    also wanders with 3-s fluctuations), and a neuron that follows the state with gain ``amp``
    (0: untuned) over a slow drift of its own and noise."""
    n = int(205 * RATE)
    t = np.arange(n) / RATE
    state = np.where(t >= 120, np.exp(-(t - 120) / 120.0), 0.0)
    a = np.exp(-1.0 / (3.0 * RATE))
    wander = lfilter([1 - a], [1, -a], rng.standard_normal(n)) / np.sqrt((1 - a) / (1 + a))
    face = 0.7 + 0.15 * state + 0.03 * wander
    drift = 0.05 * np.sin(2 * np.pi * t / rng.uniform(60, 200) + rng.uniform(0, 6.3))
    cell = _calcium(amp * state + 0.03, rng) + drift + 0.1 * rng.standard_normal(n)
    return face, cell


def test_slow_state_gets_decorrelation_shifts_and_no_highpass():
    rng = np.random.default_rng(1)
    for _ in range(6):
        f, c = _malaise_session(rng, amp=0.3)
        lag = decorrelation_lag(f)[0]
        new = shuffle_correlation(c[None], f, rate=RATE, n_shuffles=1000)
        old = shuffle_correlation(
            c[None], f, rate=RATE, n_shuffles=1000, max_autocorr=None, drift_window=None
        )
        assert lag / RATE > 10  # the state decorrelates only after tens of seconds
        assert new.min_shift[0] == lag and old.min_shift[0] == 5 * RATE
        assert new.drift_window[0] >= 10 * lag / RATE  # inf (none) when that is > the session
        # shifts that leave the state aligned with itself are out of the null: p can only drop
        assert new.p[0, 0] <= old.p[0, 0] + 0.005 and new.p[0, 0] < 0.05


def test_slow_state_null_stays_valid():
    """Neurons with slow drift only: the decorrelation shifts give no excess of small p."""
    rng = np.random.default_rng(2)
    p = []
    for _ in range(60):
        f, c = _malaise_session(rng, amp=0.0)
        p.append(shuffle_correlation(c[None], f, rate=RATE, n_shuffles=500).p[0, 0])
    assert np.mean(np.asarray(p) <= 0.05) <= 0.12


def test_highpass_removes_neuron_drift_for_fast_traces():
    rng = np.random.default_rng(3)
    n = int(400 * RATE)
    t = np.arange(n) / RATE
    face = calcium_regressor(_fast_face(n, rng), rate=RATE)
    cells = np.vstack(
        [_calcium(face - 0.7, rng) + 0.4 * np.sin(2 * np.pi * t / 150 + k) for k in range(10)]
    )
    hp = shuffle_correlation(cells, face, rate=RATE, n_shuffles=200)
    raw = shuffle_correlation(cells, face, rate=RATE, n_shuffles=200, drift_window=None)
    assert hp.drift_window[0] == pytest.approx(60.0)
    assert (hp.r > raw.r + 0.1).all()


def test_long_baseline_keeps_a_state_at_the_end_of_the_recording():
    """A 60-s running baseline follows a state in the last 85 s and removes it; 300 s keeps it."""
    rng = np.random.default_rng(4)
    n = int(205 * RATE)
    t = np.arange(n) / RATE
    state = np.where(t >= 120, np.exp(-(t - 120) / 120.0), 0.0)
    true = 1.0 * state + 0.02 * rng.standard_normal(n)
    F = 500 * (1 + true)
    short = dff(F[None], rate=RATE, window=60.0)[0]
    long = dff(F[None], rate=RATE)[0]
    late = t > 180
    assert long[late].mean() > 0.8 * true[late].mean() > 0.4
    assert short[late].mean() < 0.3 * true[late].mean()
