from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import check_estimator

from mouseface.decoding import PrototypeClassifier, make_decoder
from mouseface.decoding.evaluation import FrameData, cross_validate, trial_votes
from mouseface.decoding.metrics import permuted_balanced_accuracy, scores
from mouseface.decoding.perframe import decoding_table, trial_calls
from mouseface.decoding.splits import cv_splits
from mouseface.errors import InputError
from mouseface.stats.permutation import permute_within


def _data(seed=0, n_animals=4, per=30, d=50, noise=0.3):
    rng = np.random.default_rng(seed)
    centres = {c: rng.random(d) for c in ("neutral", "pain", "pleasure")}
    X, y, g = [], [], []
    for a in range(n_animals):
        offset = 0.2 * rng.random(d)  # animal-specific anatomy
        for c, mu in centres.items():
            X.append(mu + offset + noise * rng.random((per, d)))
            y += [c] * per
            g += [f"m{a}"] * per
    return np.vstack(X), np.array(y), np.array(g)


def _by_animal(g):
    return cv_splits("animal", animals=g, sessions=g, clusters=g)


def test_prototype_classifier_passes_sklearn_checks():
    # on_skip=None: checks sklearn skips by design (array API without SCIPY_ARRAY_API) are
    # reported in the result instead of as warnings; every other check must pass
    results = check_estimator(PrototypeClassifier(), on_skip=None, on_fail=None)
    failed = [r for r in results if r["status"] == "failed"]
    assert not failed, failed
    assert sum(r["status"] == "passed" for r in results) > 30


def test_prototype_classifier_from_given_prototypes():
    P = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    est = PrototypeClassifier.from_prototypes(np.array(["a", "b"], dtype=object), P)
    assert est.predict(np.array([[2.0, 0.1, 0.0, 2.0], [0.0, 3.0, 2.5, 0.1]])).tolist() == [
        "a",
        "b",
    ]


@pytest.mark.parametrize("name", ["prototype", "forest", "linear", "logistic"])
def test_leave_one_animal_out_decodes_separable_classes(name):
    X, y, g = _data()
    oof = cross_validate(lambda: make_decoder(name), X, y, _by_animal(g))
    assert set(oof.fold) == {"m0", "m1", "m2", "m3"} and set(oof.estimators) == set(oof.fold)
    assert sorted(oof.index.tolist()) == list(range(len(y)))  # every row predicted once
    assert np.all(g[oof.index] == oof.fold)  # by the fold that held its animal out
    assert np.mean(oof.predicted == y[oof.index]) > 0.9
    np.testing.assert_allclose(oof.proba.sum(axis=1), 1.0, atol=1e-6)
    assert list(oof.classes) == ["neutral", "pain", "pleasure"]


def test_same_rows_same_settings_same_predictions():
    X, y, g = _data(n_animals=3)
    a = cross_validate(lambda: make_decoder("forest"), X, y, _by_animal(g))
    b = cross_validate(lambda: make_decoder("forest"), X, y, _by_animal(g))
    assert np.array_equal(a.predicted, b.predicted) and np.array_equal(a.proba, b.proba)


def test_fit_rows_limit_training_but_every_test_row_is_predicted():
    X, y, g = _data(n_animals=3)
    fit = np.zeros(len(y), bool)
    fit[::2] = True
    oof = cross_validate(lambda: make_decoder("prototype"), X, y, _by_animal(g), fit_rows=fit)
    assert len(oof.index) == len(y)
    est = oof.estimators["m0"]
    train = fit & (g != "m0")
    for j, c in enumerate(est.classes_):
        np.testing.assert_allclose(est.prototypes_[j], X[train & (y == c)].mean(axis=0))


def test_chance_on_shuffled_labels():
    X, y, g = _data(noise=0.3)
    y = np.random.default_rng(5).permutation(y)
    oof = cross_validate(lambda: make_decoder("prototype"), X, y, _by_animal(g))
    assert np.mean(oof.predicted == y[oof.index]) < 0.5


def test_cv_needs_two_groups_and_two_classes():
    X, y, g = _data(n_animals=1)
    with pytest.raises(InputError, match="at least 2 animals"):
        _by_animal(g)
    X, y, g = _data(n_animals=2)
    oof = cross_validate(lambda: make_decoder("prototype"), X, np.full(len(y), "a"), _by_animal(g))
    assert len(oof.index) == 0 and len(oof.notes) == 2 and "fewer than 2 classes" in oof.notes[0]
    with pytest.raises(InputError, match="unknown decoder"):
        make_decoder("svm")


def test_sklearn_scores_of_a_single_class_fold_do_not_warn():
    s = scores(np.array(["pain", "pain"]), np.array(["pain", "pain"]), ["neutral", "pain"])
    assert s["balanced_accuracy"] == 1.0 and s["accuracy"] == 1.0


def test_sklearn_scores_ignore_absent_classes():
    s = scores(np.array(["a", "a", "a", "b"]), np.array(["a", "a", "a", "c"]), ["a", "b", "c"])
    assert s["balanced_accuracy"] == pytest.approx(0.5)
    assert s["accuracy"] == pytest.approx(0.75)
    assert np.isnan(s["recall"][2]) and s["f1"][2] == 0.0


def test_permuted_predictions_match_brute_force_and_keep_group_margins():
    rng = np.random.default_rng(0)
    n, classes = 600, list("abcd")
    t = rng.choice(classes, n)
    g = rng.choice(["m1", "m2", "m3"], n)
    p = np.where(rng.random(n) < 0.6, t, rng.choice(classes, n))
    fast = permuted_balanced_accuracy(t, p, g, classes, n_permutations=2000, seed=1)
    r = np.random.default_rng(2)
    brute = [scores(t, permute_within(p, g, r), classes)["balanced_accuracy"] for _ in range(2000)]
    assert fast.shape == (2000,)
    assert abs(fast.mean() - np.mean(brute)) < 0.003
    assert abs(fast.std() - np.std(brute)) < 0.15 * np.std(brute)
    assert scores(t, p, classes)["balanced_accuracy"] > fast.max()
    # each group predicted one class only: permuting within groups changes nothing
    p_const = np.where(g == "m1", "a", "b")
    same = permuted_balanced_accuracy(t, p_const, g, classes, n_permutations=20)
    assert np.allclose(same, scores(t, p_const, classes)["balanced_accuracy"])


def test_trial_calls_majority_of_frames_named_an_emotion():
    times = np.arange(20) / 10.0
    pred = np.array(["neutral"] * 10 + ["pain"] * 6 + ["joy"] * 4, dtype=object)
    call, share = trial_calls(
        times, np.array([0.0, 1.0, 5.0]), (0.0, 1.0), pred, np.ones(20, bool),
        np.array(["joy", "neutral", "pain"], dtype=object),
    )  # fmt: skip
    assert call.tolist() == ["neutral", "pain", None]  # nothing named; 6 pain vs 4 joy; none
    np.testing.assert_allclose(share[0], [0, 1, 0])
    np.testing.assert_allclose(share[1], [4 / 10, 0, 6 / 10])
    # neutral frames among emotion frames do not vote: 3 pain + 7 neutral is pain
    mixed = np.array(["neutral"] * 10 + ["pain"] * 3 + ["neutral"] * 7, dtype=object)
    call, share = trial_calls(
        times, np.array([1.0]), (0.0, 1.0), mixed, np.ones(20, bool),
        np.array(["joy", "neutral", "pain"], dtype=object),
    )  # fmt: skip
    assert call.tolist() == ["pain"]
    np.testing.assert_allclose(share[0], [0, 0, 1])
    # with the labels behind the gate, the first trial (no frame named an emotion) is named by
    # its most changed quarter of frames (ceil 2.5 = 3): frames 7 and 9 (joy), then frame 0 (pain)
    as_changed = np.array(["pain"] * 7 + ["joy", "pain", "joy"] + ["pain"] * 10, dtype=object)
    z = np.zeros(20)
    z[[7, 9]] = [4.0, 3.0]
    call, share = trial_calls(
        times, np.array([0.0, 1.0]), (0.0, 1.0), pred, np.ones(20, bool),
        np.array(["joy", "neutral", "pain"], dtype=object), as_changed=as_changed, change_z=z,
    )  # fmt: skip
    assert call.tolist() == ["joy", "pain"]  # the named trial keeps its majority
    np.testing.assert_allclose(share[0], [2 / 3, 0, 1 / 3])  # 3 of 10 frames: joy, joy, pain


def test_trial_votes_use_the_same_rule_as_trial_calls():
    labels = np.array(["joy", "neutral", "pain"], dtype=object)
    cluster = np.array(["a"] * 8 + ["b"] * 8)
    pred = np.array(["neutral"] * 8 + ["neutral"] * 5 + ["pain"] * 3, dtype=object)
    as_changed = np.array(["pain"] * 6 + ["joy"] * 2 + ["joy"] * 8, dtype=object)
    z = np.r_[np.zeros(6), 2.0, 1.0, np.zeros(8)]
    trials, votes = trial_votes(cluster, pred, labels, as_changed=as_changed, change_z=z)
    assert trials.tolist() == ["a", "b"]
    np.testing.assert_allclose(votes, [[1, 0, 0], [0, 0, 1]])  # a: top 2 of 8 are joy
    _, plain = trial_votes(cluster, pred, labels)
    np.testing.assert_allclose(plain, [[0, 1, 0], [0, 0, 1]])  # without: a is neutral


def test_decoding_table_counts_match_tests():
    X, y, g = _data(n_animals=3)
    X = np.hstack([np.where(y == "neutral", 0.0, 10.0)[:, None], X])
    rows = pd.DataFrame(
        {"group": g, "session": g, "cluster": [f"{a}:{i // 10}" for i, a in enumerate(g)]}
    )
    d = FrameData(rows=rows, X=X, y=y.astype(object), changed=X[:, 0] > 5,
                  response=y != "neutral")  # fmt: skip
    oof = cross_validate(lambda: make_decoder("prototype", gate=5.0), X, y, _by_animal(g))
    table = decoding_table(d, oof, decoder="prototype")
    assert set(table["metric"]) == {"accuracy", "balanced_accuracy", "n_test", "count"}
    frame = table[table["level"] == "frame"]
    assert frame.loc[frame.metric == "count", "value"].sum() == len(y)
    assert frame.loc[frame.metric == "n_test", "value"].sum() == len(y)
    assert set(frame["held_out"]) == {"m0", "m1", "m2"} and set(frame["fold"]) == {0, 1, 2}
    trial = table[(table["level"] == "trial") & (table["metric"] == "n_test")]
    assert trial["value"].sum() == rows.loc[d.response, "cluster"].nunique()


def test_gated_forest_fits_a_handful_of_changed_frames_as_sklearn_would():
    # a fold with 10 frames above the gate: the forest's fraction of rows per tree (0.5) becomes
    # 5 rows, without scikit-learn's small-sample warning (an error under filterwarnings) and
    # with the same trees as the fraction would grow
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 6))
    y = np.array(["neutral"] * 30 + ["pain"] * 5 + ["pleasure"] * 5, dtype=object)
    X[:30, 0] = 0.0  # below the gate
    X[30:, 0] = 9.0  # the 10 changed frames
    est = make_decoder("forest", gate=2.0).fit(X, y)
    assert est.n_gated_ == 10
    assert est.estimator_.named_steps["rf"].max_samples == 5
    ref = make_decoder("forest").set_params(pca__n_components=5, rf__max_samples=5)
    ref = ref.fit(X[30:, 1:], y[30:])
    np.testing.assert_array_equal(est.predict_changed(X), ref.predict(X[:, 1:]))


def test_logistic_reads_the_flow_columns_only_and_names_every_frame_itself():
    X, y, g = _data(d=40)
    hog, flow = slice(0, 30), slice(30, 40)
    rng = np.random.default_rng(1)
    gated = np.hstack([np.full((len(y), 1), -5.0), X])  # every frame below any gate
    est = make_decoder("logistic", gate=2.0, columns={"hog": hog, "flow": flow}).fit(gated, y)
    assert est.estimator_.named_steps["pca"].n_components == 10  # clipped to the 10 flow columns
    noisy = gated.copy()
    noisy[:, 1:31] = rng.normal(0, 5, (len(y), 30))  # the HOG columns do not matter
    np.testing.assert_array_equal(est.predict(noisy), est.predict(gated))
    np.testing.assert_allclose(est.predict_proba(noisy), est.predict_proba(gated))
    # not gated: frames whose change is below the gate are still named by the classifier
    assert np.mean(est.predict(gated) == y) > 0.9
    assert set(est.predict(gated)) == {"neutral", "pain", "pleasure"}
    # the gated decoders call them all neutral
    proto = make_decoder("prototype", gate=2.0).fit(np.hstack([np.full((len(y), 1), 5.0), X]), y)
    assert set(proto.predict(gated)) == {"neutral"}
