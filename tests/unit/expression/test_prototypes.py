from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mouseface.errors import InputError
from mouseface.expression.prototypes import (
    Candidates,
    animal_prototypes,
    emotion_prototype,
    least_correlated,
    neutral_prototype,
    pearson_matrix,
    pearson_rows,
    pooled_prototypes,
)

finite = st.floats(-100, 100, allow_nan=False, width=32)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (5, 7), elements=finite), arrays(np.float64, (3, 7), elements=finite))
def test_pearson_matrix_equals_numpy_corrcoef(X, P):
    X = X + np.arange(7) * 1e-3  # keep rows non-constant
    P = P + np.arange(7)[::-1] * 1e-3
    got = pearson_matrix(X, P)
    ref = np.corrcoef(np.vstack([X, P]))[:5, 5:]
    np.testing.assert_allclose(got, ref, atol=1e-8)
    assert np.all(np.abs(got) <= 1 + 1e-12)


def test_pearson_constant_row_is_nan_and_length_mismatch_errors():
    r = pearson_rows(np.array([[1.0, 1, 1], [1, 2, 3]]), np.array([3.0, 2, 1]))
    assert np.isnan(r[0]) and r[1] == pytest.approx(-1)
    with pytest.raises(InputError, match="feature lengths differ"):
        pearson_matrix(np.ones((2, 3)), np.ones((1, 4)))


def test_prototypes_follow_the_paper():
    rng = np.random.default_rng(0)
    neutral = rng.random(40)
    base = neutral + 0.01 * rng.standard_normal((50, 40))
    assert pearson_rows(neutral_prototype(base)[None], neutral)[0] > 0.99
    emotion = rng.random(40)
    # stimulus window: 30 neutral-like frames and 10 expressive frames
    window = np.vstack(
        [
            neutral + 0.01 * rng.standard_normal((30, 40)),
            emotion + 0.01 * rng.standard_normal((10, 40)),
        ]
    )
    idx = least_correlated(window, neutral, n=10)
    assert set(idx) == set(range(30, 40))
    proto = emotion_prototype(window, pearson_rows(window, neutral), n=10)
    assert pearson_rows(proto[None], emotion)[0] > 0.99
    with pytest.raises(InputError, match="no baseline frames"):
        neutral_prototype(base, np.zeros(50, bool))


def test_candidates_keep_least_correlated_and_pool_by_animal():
    rng = np.random.default_rng(1)
    c = Candidates(keep=5)
    for a in ("m1", "m2"):
        for _ in range(3):
            h = rng.random((8, 6))
            c.add(a, "pain", h, rng.random(8))
    items = dict(c.items())
    assert items[("m1", "pain")][0].shape == (5, 6)
    assert np.all(np.diff(items[("m1", "pain")][1]) >= 0)
    protos = animal_prototypes(c, n=3)
    pooled = pooled_prototypes(protos)
    np.testing.assert_allclose(
        pooled["pain"], (protos[("m1", "pain")] + protos[("m2", "pain")]) / 2, rtol=1e-6
    )
