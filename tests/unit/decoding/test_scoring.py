from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.decoding.intensity import leave_one_group_out_scores
from mouseface.decoding.scoring import score_frames, truth_frames
from mouseface.errors import InputError


def test_score_frames_interval_chance_and_p():
    rng = np.random.default_rng(0)
    n = 3000
    animal = rng.choice(["m1", "m2", "m3", "m4"], n)
    truth = rng.choice(["neutral", "pain", "joy"], n)
    good = np.where(rng.random(n) < 0.8, truth, rng.choice(["neutral", "pain", "joy"], n))
    s = score_frames(truth, good, animal, n_boot=300, n_permutations=300)
    assert s.ci_low <= s.balanced_accuracy <= s.ci_high
    assert s.balanced_accuracy > 0.8 and abs(s.chance - 1 / 3) < 0.03
    assert s.p_value == pytest.approx(1 / 301)
    assert s.n_frames == n and s.n_animals == 4 and sum(s.n_per_class.values()) == n
    noise = score_frames(truth, rng.permutation(good), animal, n_boot=50, n_permutations=300)
    assert noise.p_value > 0.01 and abs(noise.balanced_accuracy - noise.chance) < 0.05
    with pytest.raises(InputError, match="no prediction"):
        score_frames(truth, np.where(np.arange(n) == 3, None, good), animal)


def test_truth_frames_choose_by_amplitude_not_by_decoder():
    time = np.arange(10.0)
    amp = np.array([0, 0, 0.2, 1.0, 0.6, 0.4, 0.05, 0, 2.0, 0.9])
    emotion = np.where(amp >= 0.1, np.where(time < 7, "pain", "joy"), "neutral")
    truth = pd.DataFrame({"time": time, "emotion": emotion, "amplitude": amp,
                          "amp_pain": np.where(time < 7, amp, 0), "amp_joy": np.where(
                              time < 7, 0, amp)})  # fmt: skip
    scored, label = truth_frames(truth, np.array([2.0, 7.0]))
    # trial 1 (t 2-6): peak 1.0, expressing where amp >= 0.5; trial 2 (t 7-9): peak 2.0
    assert np.flatnonzero(scored).tolist() == [0, 1, 3, 4, 7, 8]
    assert label[scored].tolist() == ["neutral", "neutral", "pain", "pain", "neutral", "joy"]


def test_intensity_fold_features_are_used_by_their_fold():
    rng = np.random.default_rng(0)
    groups = np.repeat(["a", "b", "c"], 20)
    y = np.tile([True, False], 30)
    X = np.where(y, 1.0, -1.0)[:, None] + 0.1 * rng.standard_normal((60, 1))
    base, _ = leave_one_group_out_scores(X, y, groups)
    seen_by_a = np.where((groups == "a")[:, None], -X, X)  # e.g. a prototype without "a"
    flipped, _ = leave_one_group_out_scores(X, y, groups, fold_features={"a": seen_by_a})
    np.testing.assert_allclose(flipped[groups != "a"], base[groups != "a"])
    assert np.all(np.sign(flipped[groups == "a"]) == -np.sign(base[groups == "a"]))
