"""Unit tests of mouseface.expression.meaning (change of meaning maths)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.expression.meaning import (
    condition_effect,
    direction,
    nearest_class,
    nnls_weights,
    trial_scores,
)

D = 64


@pytest.fixture
def basis() -> dict:
    rng = np.random.default_rng(0)
    neutral = rng.uniform(0.2, 1.0, D)
    dirs = {e: rng.normal(0, 0.3, D) for e in ("pleasure", "disgust", "pain")}
    return {"neutral": neutral, "dirs": dirs, "rng": rng}


def test_nnls_weights_recovers_non_negative_mix(basis) -> None:
    Dm = np.stack(list(basis["dirs"].values()))
    w_true = np.array([[0.3, 0.7, 0.0], [1.0, 0.0, 0.2]])
    w = nnls_weights(w_true @ Dm, Dm)
    np.testing.assert_allclose(w, w_true, atol=1e-8)
    # a vector opposite to every direction gets all-zero weights, never negative ones
    assert (nnls_weights(-Dm.sum(0, keepdims=True), Dm) >= 0).all()


def test_nnls_weights_bad_input() -> None:
    with pytest.raises(InputError, match="features"):
        nnls_weights(np.zeros((1, 3)), np.ones((2, 4)))
    with pytest.raises(InputError, match="zero"):
        nnls_weights(np.ones((1, 3)), np.zeros((2, 3)))


def test_direction_averages_least_neutral_frames() -> None:
    disp = np.arange(12, dtype=float).reshape(4, 3)
    r = np.array([0.9, 0.1, 0.5, 0.2])
    np.testing.assert_allclose(direction(disp, r, n=2), disp[[1, 3]].mean(0), rtol=1e-6)


def _trial(neutral, dirs, weights, rng, n=20, noise=0.005):
    resp = neutral + sum(w * dirs[e] for e, w in weights.items()) + rng.normal(0, noise, (n, D))
    base = neutral + rng.normal(0, noise, (n, D))
    return resp, base


def test_trial_scores_share_follows_the_mix_not_the_amplitude(basis) -> None:
    neutral, dirs, rng = basis["neutral"], basis["dirs"], basis["rng"]
    trials = [
        _trial(neutral, dirs, {"pleasure": 1.0}, rng),
        _trial(neutral, dirs, {"pleasure": 0.4}, rng),
        _trial(neutral, dirs, {"pleasure": 0.35, "disgust": 0.65}, rng),
    ]
    sc = trial_scores(
        [t[0] for t in trials], [t[1] for t in trials], neutral, dirs, own="pleasure",
        toward="disgust",
    )  # fmt: skip
    assert list(sc.columns[:3]) == ["delta_r_pleasure", "delta_r_disgust", "preference"]
    assert {"w_pleasure", "w_disgust", "w_pain", "share"} <= set(sc.columns)
    assert sc["share"].iloc[0] < 0.05 and sc["share"].iloc[1] < 0.05
    assert sc["share"].iloc[2] == pytest.approx(0.65, abs=0.05)
    np.testing.assert_allclose(sc["w_pleasure"].iloc[:2], [1.0, 0.4], atol=0.05)
    # preference (r with pleasure minus r with disgust) grows with amplitude, share does not
    assert sc["preference"].iloc[0] > sc["preference"].iloc[1] > sc["preference"].iloc[2]


def test_trial_scores_missing_direction(basis) -> None:
    with pytest.raises(InputError, match="fear"):
        trial_scores([np.ones((2, D))], [np.ones((2, D))], basis["neutral"], basis["dirs"],
                     own="pleasure", toward="fear")  # fmt: skip


def test_nearest_class(basis) -> None:
    neutral, dirs, rng = basis["neutral"], basis["dirs"], basis["rng"]
    hog = np.stack(
        [neutral + rng.normal(0, 1e-4, D), neutral + dirs["pain"], neutral + 0.5 * dirs["disgust"]]
    )
    out = nearest_class(hog, neutral, dirs, threshold=1e-3)
    assert list(out) == ["neutral", "pain", "disgust"]


def _table(shift: float, *, n_animals=4, n=6, seed=0, noise=0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_animals):
        offset = rng.normal(0, 0.2)
        for cond, mu in (("before", 0.0), ("after", shift)):
            for _ in range(n):
                rows.append({"animal": f"m{a}", "condition": cond,
                             "value": offset + mu + rng.normal(0, noise)})  # fmt: skip
    return pd.DataFrame(rows)


def test_condition_effect_detects_shift_with_interval() -> None:
    eff = condition_effect(
        _table(0.3), num="value", before="before", after="after", n_perm=999, n_boot=500
    )
    assert eff["ci_low"] < 0.3 < eff["ci_high"]
    assert eff["value"] == pytest.approx(0.3, abs=0.05)
    assert eff["p_permutation"] < 0.01
    assert eff["p_signflip"] == pytest.approx(2 / 16)  # all 4 animals agree: smallest possible
    assert eff["d"] > 3 and eff["d_ci_low"] > 0
    assert eff["n_animals"] == 4 and eff["n_before"] == eff["n_after"] == 24
    assert list(eff["per_animal"].columns) == [
        "animal", "before", "after", "difference", "n_before", "n_after"
    ]  # fmt: skip


def test_condition_effect_null_and_ratio() -> None:
    eff = condition_effect(
        _table(0.0, seed=3), num="value", before="before", after="after", n_perm=999, n_boot=500
    )
    assert eff["ci_low"] < 0 < eff["ci_high"]
    assert eff["p_permutation"] > 0.05
    t = pd.DataFrame(
        {
            "animal": ["a"] * 4 + ["b"] * 4,
            "condition": ["before", "before", "after", "after"] * 2,
            "num": [1.0, 0, 3, 3] * 2,
            "den": [2.0, 2, 4, 4] * 2,
        }
    )
    eff = condition_effect(t, num="num", den="den", before="before", after="after", n_perm=50,
                           n_boot=50)  # fmt: skip
    assert eff["value"] == pytest.approx(0.75 - 0.25)  # sum(num)/sum(den) per condition


def test_condition_effect_needs_two_animals() -> None:
    t = _table(0.3, n_animals=1)
    with pytest.raises(InputError, match="at least 2 animals"):
        condition_effect(t, num="value", before="before", after="after")
    with pytest.raises(InputError, match="ci"):
        condition_effect(_table(0.3), num="value", before="before", after="after", ci=1.5)


def test_synth_pairing_adds_a_post_pairing_session(tmp_path) -> None:
    """generate_dataset(pairing=True): one more session per animal in state 'paired' whose
    sucrose face is 65 % disgust; the ordinary sessions are unchanged."""
    from mouseface.synth import generate_dataset, planned_frames

    kw = {"n_animals": 1, "seed": 2, "fps": 5.0, "size": (48, 64), "trials_per_stimulus": 2,
          "states": ("thirsty",)}  # fmt: skip
    base = generate_dataset(tmp_path / "a", **kw).parent
    paired = generate_dataset(tmp_path / "b", pairing=True, **kw).parent
    assert planned_frames(pairing=True, **{k: v for k, v in kw.items() if k != "size"}) > (
        planned_frames(**{k: v for k, v in kw.items() if k != "size"})
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(base / "truth" / "m1_s1.parquet"),
        pd.read_parquet(paired / "truth" / "m1_s1.parquet"),
    )
    events = pd.read_csv(paired / "events" / "m1_s2.tsv", sep="\t")
    assert set(events["trial_type"]) == {"sucrose"} and set(events["state"]) == {"paired"}
    trials = pd.read_parquet(paired / "truth" / "trials.parquet")
    post = trials[trials["session"] == "m1_s2"]
    assert (post["blend_emotion"] == "disgust").all() and (post["blend_share"] == 0.65).all()
    assert (trials.loc[trials["session"] == "m1_s1", "blend_share"] == 0).all()
    truth = pd.read_parquet(paired / "truth" / "m1_s2.parquet")
    for onset in events["onset"]:
        row = truth.iloc[int(np.ceil((onset + 1.5) * 5))]
        assert row["emotion"] == "disgust"
        assert row["amp_disgust"] == pytest.approx(row["amp_pleasure"] * 0.65 / 0.35, rel=0.3)


def test_signflip_p_is_exact_for_few_animals() -> None:
    from mouseface.expression.meaning import _signflip_p

    d = np.array([0.5, 0.8, 1.1, 0.3, 0.9])
    # all five positive: only all-plus and all-minus are as extreme -> 2 / 2**5
    assert _signflip_p(d, np.random.default_rng(0), 100) == pytest.approx(2 / 32)
    d2 = np.array([0.5, -0.8, 1.1, 0.3])
    signs = 1 - 2 * ((np.arange(16)[:, None] >> np.arange(4)) & 1)
    expect = np.mean(np.abs((signs * d2).mean(1)) >= abs(d2.mean()) - 1e-12)
    assert _signflip_p(d2, np.random.default_rng(0), 100) == pytest.approx(expect)
