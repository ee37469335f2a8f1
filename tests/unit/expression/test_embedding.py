"""Similarity, clustering, emotion-vs-animal contrast and frame embedding; prototype building."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.expression.embedding import (
    cluster_order,
    cut_agreement,
    embed_frames,
    emotion_animal_contrast,
    separation,
    similarity,
)
from mouseface.expression.frameset import FrameSet, cap_per_group
from mouseface.expression.prototype_sets import build_prototypes, prototype_table

EMOTIONS = ["joy", "fear", "pain", "disgust"]
ANIMALS = ["m1", "m2", "m3", "m4"]


def _prototypes(emotion_weight: float, animal_weight: float, seed: int = 0):
    """Rows animal:emotion = emotion_weight * E[emotion] + animal_weight * A[animal] + noise."""
    rng = np.random.default_rng(seed)
    E = {e: rng.standard_normal(200) for e in EMOTIONS}
    A = {a: rng.standard_normal(200) for a in ANIMALS}
    rows, animals, emotions = [], [], []
    for a in ANIMALS:
        for e in EMOTIONS:
            rows.append(
                emotion_weight * E[e] + animal_weight * A[a] + 0.3 * rng.standard_normal(200)
            )
            animals.append(a)
            emotions.append(e)
    return np.array(rows), np.array(animals), np.array(emotions)


def test_similarity_and_clustering_by_emotion() -> None:
    V, animals, emotions = _prototypes(1.0, 0.3)
    r = similarity(V)
    assert r.shape == (16, 16)
    assert np.allclose(np.diag(r), 1.0)
    Z, order = cluster_order(r)
    assert sorted(order.tolist()) == list(range(16))
    # leaves of one emotion are contiguous in the dendrogram order
    labels = emotions[order]
    assert sum(labels[i] != labels[i + 1] for i in range(15)) == len(EMOTIONS) - 1
    assert cut_agreement(Z, emotions, k=4) == pytest.approx(1.0)
    assert cut_agreement(Z, animals, k=4) < 0.1


def test_contrast_emotion_dominated() -> None:
    V, animals, emotions = _prototypes(1.0, 0.3)
    c = emotion_animal_contrast(
        similarity(V), animals, emotions, n_permutations=200, n_boot=200, seed=1
    )
    assert c["within_emotion"] > c["within_animal"]
    assert c["difference_low"] > 0
    assert c["p_value"] == pytest.approx(1 / 201)
    assert c["within_emotion_low"] <= c["within_emotion"] <= c["within_emotion_high"]
    assert c["n_animals"] == 4 and c["n_prototypes"] == 16


def test_contrast_animal_dominated() -> None:
    V, animals, emotions = _prototypes(0.3, 1.0)
    c = emotion_animal_contrast(similarity(V), animals, emotions, n_permutations=200, n_boot=100)
    assert c["difference"] < 0
    assert c["difference_high"] < 0
    # the permutation test asks whether same-emotion pairs beat random cross-animal pairs:
    # yes here (weak emotion signal), no when there is no emotion signal at all
    assert c["p_value"] < 0.05
    V0, animals0, emotions0 = _prototypes(0.0, 1.0)
    c0 = emotion_animal_contrast(similarity(V0), animals0, emotions0, n_permutations=200, n_boot=50)
    assert c0["p_value"] > 0.05


def test_contrast_bad_input() -> None:
    V, animals, emotions = _prototypes(1.0, 0.3)
    with pytest.raises(InputError, match="at least 2 animals"):
        emotion_animal_contrast(similarity(V), np.full(16, "m1"), emotions)
    distinct = np.array([f"e{i}" for i in range(16)])  # no emotion shared by two animals
    with pytest.raises(InputError, match="no emotion has prototypes in two animals"):
        emotion_animal_contrast(similarity(V), animals, distinct)
    with pytest.raises(InputError, match="square matrix"):
        cluster_order(np.ones((1, 1)))


def test_embedding_separates_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = 5.0 * rng.standard_normal((3, 50))
    labels = np.repeat(["a", "b", "c"], 30)
    X = centres[np.repeat(np.arange(3), 30)] + rng.standard_normal((90, 50))
    pcs, xy = embed_frames(X, n_pca=10, perplexity=20, seed=0)
    assert pcs.shape == (90, 10) and xy.shape == (90, 2)
    assert separation(pcs, labels) > 0.5
    assert separation(xy, labels) > 0.5
    assert separation(pcs, np.tile(["x", "y", "z"], 30)) < 0.05
    assert np.isnan(separation(pcs, np.full(90, "a")))
    with pytest.raises(InputError, match="at least 5 frames"):
        embed_frames(X[:3])


def _frame_set() -> FrameSet:
    """Two sessions of one animal: neutral baseline frames and 'joy' frames of rising change."""
    d = 6
    rows, X, neutral = [], [], {}
    for k, sid in enumerate(("s1", "s2")):
        neutral[sid] = np.full(d, 1.0 + k)
        for _ in range(5):
            rows.append(
                {
                    "session": sid,
                    "animal": "m1",
                    "window": "baseline",
                    "label": "neutral",
                    "change": 0.01,
                    "change_z": 0.0,
                }
            )
            X.append(np.zeros(d))
        for i in range(5):
            rows.append(
                {
                    "session": sid,
                    "animal": "m1",
                    "window": "response",
                    "label": "joy",
                    "change": 0.1 * (i + 1),
                    "change_z": 10.0 * (i + 1),
                }
            )
            X.append(np.full(d, float(i + 1)) * (1 if k == 0 else -1))
    return FrameSet(rows=pd.DataFrame(rows), X=np.array(X, dtype=np.float32), neutral=neutral)


def test_build_prototypes_least_neutral_frames() -> None:
    fs = _frame_set()
    protos = build_prototypes(fs, n_frames=2)
    by = {(p.level, p.session, p.animal, p.emotion): p for p in protos}
    s1 = by[("session", "s1", "m1", "joy")]
    # the 2 frames with the highest change (4 and 5) are averaged
    assert np.allclose(s1.difference, 4.5)
    assert np.allclose(s1.raw, 4.5 + 1.0)
    assert s1.n_frames == 2
    animal = by[("animal", None, "m1", "joy")]
    # over both sessions the two highest changes are s2's frames 4 and 5 (ties broken stably)
    assert animal.n_frames == 2
    assert np.allclose(by[("animal", None, "m1", "neutral")].raw, 1.5)
    assert ("pooled", None, None, "joy") in by
    table = prototype_table(protos)
    assert set(table["representation"]) == {"raw", "difference"}
    assert len(table) == len(protos) * 2 * 6
    with pytest.raises(InputError, match=">= 1"):
        build_prototypes(fs, n_frames=0)


def test_cap_per_group() -> None:
    keys = np.array(["a"] * 10 + ["b"] * 3)
    idx = cap_per_group(keys, max_per_group=4, seed=0)
    assert (keys[idx] == "a").sum() == 4 and (keys[idx] == "b").sum() == 3
    assert np.all(np.diff(idx) > 0)
    with pytest.raises(InputError):
        cap_per_group(keys, max_per_group=0)
