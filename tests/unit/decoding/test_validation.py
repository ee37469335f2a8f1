"""Cross-validation schemes, metrics, bootstrap, permutation; quality flags; gated decoder."""

from __future__ import annotations

import numpy as np
import pytest

from mouseface.decoding.factory import make_decoder
from mouseface.decoding.gated import ChangeGatedClassifier
from mouseface.decoding.metrics import bootstrap_confusion, confusion, scores_from_confusion
from mouseface.decoding.splits import cv_splits
from mouseface.errors import InputError
from mouseface.features.quality import (
    detect_occlusion,
    detect_transients,
    flag_agreement,
    quality_flags,
    robust_z,
    temporal_instability,
)
from mouseface.stats.bootstrap import percentile_interval
from mouseface.stats.permutation import permutation_null, permutation_p_value, permute_within


def _groups():
    animals = np.repeat(["a", "b", "c"], 20)
    sessions = np.char.add(animals, np.tile(np.repeat(["1", "2"], 10), 3))
    clusters = np.char.add(sessions, np.tile(np.repeat(["x", "y", "z", "w", "v"], 2), 6))
    return animals, sessions, clusters


def test_leave_one_animal_and_session_out() -> None:
    animals, sessions, clusters = _groups()
    kw = {"animals": animals, "sessions": sessions, "clusters": clusters}
    by_animal = cv_splits("animal", **kw)
    assert [s.fold for s in by_animal] == ["a", "b", "c"]
    for s in by_animal:
        assert set(animals[s.test]) == {s.fold}
        assert s.fold not in set(animals[s.train])
        assert len(s.train) + len(s.test) == len(animals)
    by_session = cv_splits("session", **kw)
    assert len(by_session) == 6
    assert sorted(np.concatenate([s.test for s in by_session]).tolist()) == list(range(60))


def test_random_splits_keep_clusters_together() -> None:
    animals, sessions, clusters = _groups()
    splits = cv_splits(
        "random", animals=animals, sessions=sessions, clusters=clusters, n_splits=4, seed=1
    )
    assert len(splits) == 4
    n_clusters = len(np.unique(clusters))
    for s in splits:
        assert not set(clusters[s.train]) & set(clusters[s.test])
        assert len(np.unique(clusters[s.test])) == round(0.25 * n_clusters)
    again = cv_splits(
        "random", animals=animals, sessions=sessions, clusters=clusters, n_splits=4, seed=1
    )
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again, strict=True))


@pytest.mark.parametrize(
    ("scheme", "kw", "match"),
    [
        ("animal", {"animals": np.array(["a"] * 6)}, "at least 2 animals"),
        ("session", {"sessions": np.array(["s"] * 6)}, "at least 2 sessions"),
        ("random", {"clusters": np.array(["t1", "t1", "t2", "t2", "t3", "t3"])}, "at least 4"),
        ("bogus", {}, "unknown cross-validation scheme"),
    ],
)
def test_cv_bad_input(scheme: str, kw: dict, match: str) -> None:
    base = {
        "animals": np.array(list("aabbcc")),
        "sessions": np.array(list("ddeeff")),
        "clusters": np.arange(6).astype(str),
    }
    with pytest.raises(InputError, match=match):
        cv_splits(scheme, **(base | kw))


def test_scores_from_confusion_known_values() -> None:
    y = np.array(["a", "a", "a", "a", "b", "b", "c", "c"])
    p = np.array(["a", "a", "a", "b", "b", "b", "c", "a"])
    cm = confusion(y, p, ["a", "b", "c"])
    assert cm.tolist() == [[3, 1, 0], [0, 2, 0], [1, 0, 1]]
    s = scores_from_confusion(cm)
    assert s["accuracy"] == pytest.approx(6 / 8)
    assert s["balanced_accuracy"] == pytest.approx((3 / 4 + 1 + 1 / 2) / 3)
    # F1 = 2 TP / (2 TP + FP + FN)
    assert s["f1"] == pytest.approx([6 / 8, 4 / 5, 2 / 3])
    stacked = scores_from_confusion(np.stack([cm, np.diag([1, 1, 1])]))
    assert stacked["balanced_accuracy"][1] == 1.0
    assert stacked["f1"].shape == (2, 3)


def test_balanced_accuracy_ignores_absent_classes() -> None:
    cm = confusion(["a", "a", "b"], ["a", "c", "b"], ["a", "b", "c"])
    s = scores_from_confusion(cm)
    assert s["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert np.isnan(s["recall"][2])


def test_cluster_bootstrap() -> None:
    y = np.repeat(["a", "b"], 10)
    clusters = np.repeat(np.arange(5), 4)
    boot = bootstrap_confusion(y, y, clusters, ["a", "b"], n_boot=50, seed=3)
    assert boot.shape == (50, 2, 2)
    assert np.all(boot.sum(axis=(1, 2)) == 20)  # 5 clusters of 4 frames drawn per replicate
    assert np.all(boot[:, 0, 1] == 0) and np.all(boot[:, 1, 0] == 0)
    again = bootstrap_confusion(y, y, clusters, ["a", "b"], n_boot=50, seed=3)
    assert np.array_equal(boot, again)
    wrong = np.where(clusters == 0, "b", y)  # one cluster of "a" predicted "b"
    acc = scores_from_confusion(bootstrap_confusion(y, wrong, clusters, ["a", "b"], n_boot=400))
    lo, hi = percentile_interval(acc["accuracy"])
    assert lo < 0.8 < hi <= 1.0


def test_percentile_interval_and_nan() -> None:
    lo, hi = percentile_interval(np.arange(101.0), level=0.9)
    assert (float(lo), float(hi)) == pytest.approx((5.0, 95.0))
    s = np.array([[1.0, np.nan], [3.0, np.nan]])
    lo, hi = percentile_interval(s, level=0.5)
    assert lo[0] == pytest.approx(1.5) and np.isnan(lo[1])
    with pytest.raises(InputError, match="level"):
        percentile_interval(s, level=1.5)


def test_permutations() -> None:
    rng = np.random.default_rng(0)
    y = np.array(list("aabbbcccc") * 2)
    groups = np.repeat(["g1", "g2"], 9)
    yp = permute_within(y, groups, rng)
    for g in ("g1", "g2"):
        assert sorted(yp[groups == g]) == sorted(y[groups == g])
    x = (y == "a").astype(float)  # a perfectly informative "decoder" score
    null = permutation_null(
        lambda lab: float(np.mean((lab == "a") == (x > 0.5))), y, groups, n_permutations=30
    )
    assert null.shape == (30,)
    assert permutation_p_value(1.0, null) == pytest.approx(1 / 31)
    assert permutation_p_value(0.0, np.array([0.1, 0.2])) == pytest.approx(1.0)
    assert np.isnan(permutation_p_value(np.nan, null))


# ---------------------------------------------------------------- quality flags


def _face_series(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 0.3, size=64)
    return (base + 0.005 * rng.standard_normal((n, 64))).astype(np.float32)


def test_robust_z() -> None:
    z = robust_z(np.array([1.0, 2.0, 3.0, 100.0]), np.array([1.0, 2.0, 3.0]))
    assert z[1] == pytest.approx(0.0)
    assert z[3] > 50
    assert np.all(np.isnan(robust_z(np.ones(3), np.array([np.nan]))))
    assert np.all(np.isfinite(robust_z(np.ones(4))))


def test_transient_flagged_and_bout_not() -> None:
    hog = _face_series()
    hog[100:103] += 0.2  # a blink: 3 frames away and back
    for t in range(250, 300, 3):  # a licking bout: repeated brief excursions
        hog[t] += 0.2
    inst = temporal_instability(hog, fps=20.0)
    assert inst[101] > 10
    flags = detect_transients(inst, fps=20.0)
    assert flags[100:103].all()
    assert not flags[250:300].any()
    assert flags.sum() <= 7  # the blink widened by one frame on each side


def test_occlusion_flagged_and_smooth_change_not() -> None:
    rng = np.random.default_rng(1)
    hog = _face_series()
    hog[200:260] += 0.15 * rng.standard_normal((60, 64)).astype(np.float32)  # paw strokes
    ramp = np.clip((np.arange(400) - 50) / 20.0, 0, 1)[:, None]
    hog += (0.3 * ramp * np.linspace(-1, 1, 64)[None, :]).astype(np.float32)  # an expression
    q = quality_flags(hog, fps=20.0, good=np.arange(400) != 5)
    assert q["occlusion"][205:255].all()
    assert not q["occlusion"][40:120].any()
    assert q["bad_image"][5] and q["flagged"][5]
    assert set(q.columns) >= {"instability", "transient", "occlusion", "motion", "flagged"}
    assert not detect_occlusion(np.zeros(100), fps=20.0).any()


def test_flag_agreement() -> None:
    a = flag_agreement(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    assert (a["precision"], a["recall"], a["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    none = flag_agreement(np.zeros(3, bool), np.zeros(3, bool))
    assert np.isnan(none["precision"]) and np.isnan(none["recall"])
    with pytest.raises(InputError, match="lengths differ"):
        flag_agreement(np.zeros(3, bool), np.zeros(4, bool))


# ---------------------------------------------------------------- gated decoder


def _gated_data(seed: int = 0):
    fixed = np.random.default_rng(42)
    dirs = {"joy": fixed.standard_normal(40), "fear": fixed.standard_normal(40)}
    rng = np.random.default_rng(seed)
    X, y, z = [], [], []
    for lab in ("neutral", "joy", "fear"):
        for _ in range(40):
            amp = 0.0 if lab == "neutral" else 1.0
            v = amp * dirs.get(lab, np.zeros(40)) + 0.3 * rng.standard_normal(40)
            X.append(v)
            y.append(lab)
            z.append(rng.normal(0, 1) if lab == "neutral" else rng.uniform(8, 20))
    return np.column_stack([z, np.array(X)]), np.array(y, dtype=object)


@pytest.mark.parametrize("name", ["prototype", "forest", "linear"])
def test_gated_decoder(name: str) -> None:
    X, y = _gated_data()
    est = make_decoder(name, gate=5.0).fit(X, y)
    assert isinstance(est, ChangeGatedClassifier)
    assert set(est.classes_) == {"neutral", "joy", "fear"}
    Xt, yt = _gated_data(seed=1)
    pred = est.predict(Xt)
    low = Xt[:, 0] <= 5.0
    assert np.all(pred[low] == "neutral")
    assert np.mean(pred == yt) > 0.9
    # every frame has probabilities; a gated frame is neutral with probability 1
    proba = est.predict_proba(Xt)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    neutral = list(est.classes_).index("neutral")
    assert np.all(proba[low, neutral] == 1.0)
    assert (
        np.array_equal(est.classes_[np.argmax(proba, axis=1)][~low], pred[~low]) or name == "forest"
    )


def test_gated_decoder_bad_input() -> None:
    X, y = _gated_data()
    with pytest.raises(InputError, match="only 0 class"):
        ChangeGatedClassifier(threshold=1e9).fit(X, y)
    with pytest.raises(InputError, match="X must be"):
        ChangeGatedClassifier().fit(X[:, :1], y)
    with pytest.raises(InputError, match="unknown decoder"):
        make_decoder("svm")
