from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from mouseface.decoding.estimators import (
    PrototypeClassifier,
    balanced_accuracy,
    cross_validate_by_group,
    make_decoder,
)
from mouseface.decoding.quick import decode_all
from mouseface.errors import InputError


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


def test_prototype_classifier_passes_sklearn_checks():
    # on_skip=None: checks sklearn skips by design (array API without SCIPY_ARRAY_API) are
    # reported in the result instead of as warnings; every other check must pass
    results = check_estimator(PrototypeClassifier(), on_skip=None, on_fail=None)
    failed = [r for r in results if r["status"] == "failed"]
    assert not failed, failed
    assert sum(r["status"] == "passed" for r in results) > 30


@pytest.mark.parametrize("name", ["prototype", "forest", "linear"])
def test_leave_one_animal_out_decodes_separable_classes(name):
    X, y, g = _data()
    scores, pred, proba, classes = cross_validate_by_group(lambda: make_decoder(name), X, y, g)
    assert len(scores) == 4 and set(scores["held_out"]) == {"m0", "m1", "m2", "m3"}
    assert scores["accuracy"].mean() > 0.9
    assert np.mean(pred == y) > 0.9
    np.testing.assert_allclose(np.nansum(proba, axis=1), 1.0, atol=1e-6)
    assert list(classes) == ["neutral", "pain", "pleasure"]


def test_chance_on_shuffled_labels():
    X, y, g = _data(noise=0.3)
    y = np.random.default_rng(5).permutation(y)
    scores, *_ = cross_validate_by_group(lambda: make_decoder("prototype"), X, y, g)
    assert scores["accuracy"].mean() < 0.5


def test_cv_needs_two_groups_and_two_classes():
    X, y, g = _data(n_animals=1)
    with pytest.raises(InputError, match="at least 2 animals"):
        cross_validate_by_group(lambda: make_decoder("prototype"), X, y, g)
    X, y, g = _data(n_animals=2)
    with pytest.raises(InputError, match="at least 2 classes"):
        cross_validate_by_group(lambda: make_decoder("prototype"), X, np.full(len(y), "a"), g)
    with pytest.raises(InputError, match="unknown decoder"):
        make_decoder("svm")


def test_decode_all_tidy_table_counts_match_tests():
    X, y, g = _data(n_animals=3)
    table, preds = decode_all(X, y, g, decoders=["prototype"], level="frame")
    counts = table[table.metric == "count"]
    n_test = table[table.metric == "n_test"]["value"].sum()
    assert counts["value"].sum() == n_test == len(y)
    assert set(table["metric"]) == {"accuracy", "balanced_accuracy", "n_test", "count"}
    assert preds["prototype"][0].shape == (len(y),)


def test_balanced_accuracy():
    assert balanced_accuracy(np.array(["a", "a", "a", "b"]), np.array(["a", "a", "a", "a"])) == 0.5
