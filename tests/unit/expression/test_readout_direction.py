"""Directions of the amplitude readout from the data (mouseface.expression.readout.mean_change,
pooled_change, session_amplitude with vectors) and the time-course analysis' peak windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.analyses.timecourse import peak_windows
from mouseface.errors import InputError
from mouseface.expression.readout import (
    mean_change,
    pooled_change,
    session_amplitude,
    session_neutral,
)
from mouseface.expression.timecourse import rise_decay

FPS = 10.0


class _Source:
    """An output folder in memory: two sessions (animals a, b), HOG = neutral + known changes."""

    def __init__(self) -> None:
        n, d = 200, 6
        self.times = np.arange(n) / FPS
        rng = np.random.default_rng(0)
        self._hog = {}
        rows = []
        self.direction = {"a": np.eye(d)[0] * 2.0, "b": np.eye(d)[1] * 4.0}
        for session, animal in (("s1", "a"), ("s2", "b")):
            base = rng.uniform(0.2, 0.4, d)
            h = np.tile(base, (n, 1))
            for onset in (5.0, 12.0):
                tt = self.times - onset
                shape = np.where((tt >= 1.0) & (tt < 3.0), 1.0, 0.0)  # the face changes 1-3 s
                h += shape[:, None] * self.direction[animal]
                rows.append({"session": session, "animal": animal, "onset": onset,
                             "emotion": "pain", "duration": 2.0})  # fmt: skip
            self._hog[session] = h
        self.trials = pd.DataFrame(rows)
        self.windows = {"baseline": (-2.0, 0.0), "response": (0.0, 2.0)}
        self.good = np.ones(n, bool)

    def frames(self, session: str) -> pd.DataFrame:
        return pd.DataFrame({"time": self.times, "good": self.good})

    def hog(self, session: str, index=None) -> np.ndarray:
        h = self._hog[session]
        return h if index is None else h[np.asarray(index)]

    def session_animal(self, session: str) -> str:
        return {"s1": "a", "s2": "b"}[session]


def test_mean_change_per_animal_and_pooled():
    src = _Source()
    w = np.tile([1.0, 3.0], (len(src.trials), 1))  # exactly the changed frames
    per = mean_change(src, src.trials, w)
    assert set(per) == {"a", "b"}
    np.testing.assert_allclose(per["a"]["pain"], src.direction["a"], atol=1e-12)
    np.testing.assert_allclose(per["b"]["pain"], src.direction["b"], atol=1e-12)
    pooled = pooled_change(per)["pain"]
    np.testing.assert_allclose(pooled, (src.direction["a"] + src.direction["b"]) / 2, atol=1e-12)
    # half the window outside the change: half the change
    half = mean_change(src, src.trials, np.tile([2.0, 4.0], (len(src.trials), 1)))
    np.testing.assert_allclose(half["a"]["pain"], src.direction["a"] / 2, atol=1e-12)


def test_mean_change_prefers_good_frames():
    src = _Source()
    src.good = np.ones(len(src.times), bool)
    src.good[(src.times >= 6.0) & (src.times < 8.0)] = False  # the first trial's 1-3 s
    per = mean_change(src, src.trials.iloc[:1], np.array([[0.0, 3.0]]))
    # only the good frames (0-1 s after the onset, unchanged) are averaged
    np.testing.assert_allclose(per["a"]["pain"], 0.0, atol=1e-12)


def test_session_amplitude_with_vectors_reads_one_at_the_direction():
    src = _Source()
    neutral = session_neutral(src, "s1")
    np.testing.assert_allclose(neutral, src.hog("s1", [0])[0])
    amp = session_amplitude(src, "s1", ["pain"], vectors=src.direction["a"][None])[:, 0]
    on = (src.times >= 6.0) & (src.times < 8.0)
    np.testing.assert_allclose(amp[on], 1.0)
    np.testing.assert_allclose(amp[src.times < 5.0], 0.0, atol=1e-12)
    # a direction at half the change reads 2 on the changed frames
    amp2 = session_amplitude(src, "s1", ["pain"], vectors=src.direction["a"][None] / 2)[:, 0]
    np.testing.assert_allclose(amp2[on], 2.0)
    with pytest.raises(InputError, match="2 direction vectors for 1 emotions"):
        session_amplitude(src, "s1", ["pain"], vectors=np.ones((2, 6)))


def test_peak_windows_end_at_each_trials_peak():
    t = -2 + np.arange(int(14 * FPS) + 1) / FPS
    drives = np.array([1.0, 2.0, 3.0, 2.0])
    M = np.stack([rise_decay(t, amplitude=1.0, latency=0.3, rise=0.2, decay=1.5, drive=d)
                  for d in drives])  # fmt: skip
    keys = ["k1", "k2", "k3", "k4"]
    opt = {"peak_window": 1.0, "max_latency": 2.0}
    w = peak_windows(t, {"pain": (M, drives, keys)}, opt, (0.0, 2.0))
    for k, d in zip(keys, drives, strict=True):
        start, end = w[k]
        assert end == pytest.approx(0.3 + d, abs=0.05)
        assert end - start == pytest.approx(1.0)
    # unknown drives: the fitted peak (latency + fitted drive) for every trial
    same = np.stack([M[0], M[0]])
    w2 = peak_windows(t, {"pain": (same, np.zeros(2), keys[:2])}, opt, (0.0, 2.0))
    assert w2["k1"] == pytest.approx((0.3, 1.3), abs=0.05)
    # a peak earlier than the window's width: the window starts at the onset
    w3 = peak_windows(t, {"pain": (same, drives[:2], keys[:2])}, {**opt, "peak_window": 2.0},
                      (0.0, 2.0))  # fmt: skip
    assert w3["k1"] == pytest.approx((0.0, 2.0))
    # no fit possible (one trial): the response window
    w4 = peak_windows(t, {"pain": (M[:1], drives[:1], keys[:1])}, opt, (0.0, 2.0))
    assert w4["k1"] == (0.0, 2.0)


def test_missing_direction_is_a_clear_message():
    from mouseface.analyses.timecourse import _animal_vectors

    class _Ctx:
        def session_animal(self, session: str) -> str:
            return "a"

    vec = {"a": {"pain": np.ones(3)}, "b": {"pain": np.zeros(3), "pleasure": np.ones(3)}}
    got = _animal_vectors(vec, _Ctx(), "s1", ["pain", "pleasure"])
    np.testing.assert_array_equal(got, [np.ones(3), np.ones(3)])  # own, else pooled
    with pytest.raises(InputError, match=r"\['malaise'\].*direction: pooled"):
        _animal_vectors(vec, _Ctx(), "s1", ["malaise"])
