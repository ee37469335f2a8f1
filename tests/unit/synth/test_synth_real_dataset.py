"""generate_dataset(faces="real"): same tables as the cartoon, identities, variants, style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mouseface.io.config import load_config
from mouseface.synth import EMOTIONS, PROFILES, generate_dataset, planned_frames
from mouseface.synth.faces import load_identity
from mouseface.synth.landmarks import LANDMARK_NAMES
from mouseface.synth.real_dataset import animal_style, playback, style_cosine

TINY = {
    "n_animals": 4,
    "seed": 1,
    "fps": 5.0,
    "size": (96, 128),
    "trials_per_stimulus": 1,
    "states": (),
    "licl_tail": 10.0,
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("realfaces")
    real = generate_dataset(root / "real", faces="real", **TINY)
    cartoon = generate_dataset(root / "cartoon", faces="cartoon", **TINY)
    return real, cartoon


def test_same_tables_as_the_cartoon(pair) -> None:
    real, cartoon = (p.parent for p in pair)
    for name in ("m1_s1.parquet", "trials.parquet"):
        a, b = pd.read_parquet(real / "truth" / name), pd.read_parquet(cartoon / "truth" / name)
        assert list(a.columns) == list(b.columns)
        assert len(a) == len(b)
    a = pd.read_parquet(real / "truth" / "m1_s1.parquet")
    b = pd.read_parquet(cartoon / "truth" / "m1_s1.parquet")
    assert (a["emotion"] == b["emotion"]).mean() > 0.95  # the same plan
    assert sum(len(pd.read_parquet(p)) for p in (real / "truth").glob("m*_s*.parquet")) == (
        planned_frames(**{k: v for k, v in TINY.items() if k != "size"})
    )


def test_variants_share_their_identity(pair) -> None:
    real = pair[0]
    animals = pd.read_parquet(real.parent / "truth" / "animals.parquet")
    assert list(animals["identity"]) == ["ECO_3_000_M", "ECO_3_00B_M", "ECO_5_R00_F", "ECO_3_000_M"]
    assert list(animals["variant"]) == [0, 0, 0, 1]
    assert not animals["variant_mirror"].any()  # all face the same way, as on one rig
    assert animals.loc[3, "variant_scale"] != 1.0  # the variant differs from its identity
    assert animals["identity"].nunique() == 3
    cfg = load_config(real)
    subject = {s.animal: s.subject for s in cfg.sessions}
    assert subject["m4"] == subject["m1"] == "ECO_3_000_M"
    assert len({tuple(s.roi) for s in cfg.sessions}) >= 2
    assert len({tuple(s.roi[2:]) for s in cfg.sessions}) == 1  # one ROI size for all
    raw = yaml.safe_load(real.read_text())
    assert all("subject" in s for s in raw["sessions"])


def test_landmark_truth(pair) -> None:
    root = pair[0].parent
    truth = pd.read_parquet(root / "truth" / "m2_s1.parquet")
    lm = pd.read_parquet(root / "truth" / "landmarks" / "m2_s1.parquet")
    assert len(lm) == len(truth)
    assert [c for c in lm.columns if c.endswith("_x")] == [f"{n}_x" for n in LANDMARK_NAMES]
    h, w = TINY["size"]
    assert lm["eye_x"].between(0, w).all() and lm["eye_y"].between(0, h).all()
    # eye landmark follows the head jitter of the truth table
    dx = truth["jitter_dx"].to_numpy()
    assert np.corrcoef(lm["eye_x"].to_numpy(), dx)[0, 1] > 0.9


def test_style_makes_animals_differ_but_emotions_stay_apart() -> None:
    n = 8
    rng = np.random.default_rng(5)
    expressivity = rng.lognormal(0.0, 0.12, (n, 10))
    styles = [animal_style(np.random.default_rng([5, i])) for i in range(n)]
    real = style_cosine(styles, expressivity)
    flat = style_cosine([np.ones((len(EMOTIONS), 10))] * n, expressivity)
    assert np.mean(list(flat.values())) > 0.97
    assert np.mean(list(real.values())) < 0.9
    assert max(real.values()) < 0.97
    # an animal's emotion is still nearest to the same emotion of the other animals
    vec = np.array(
        [
            [np.asarray(PROFILES[e].au) * s[j] * x for j, e in enumerate(EMOTIONS) if j]
            for s, x in zip(styles, expressivity, strict=True)
        ]
    )
    hits = 0
    for a in range(n):
        others = np.delete(vec, a, axis=0).mean(axis=0)
        cos = (others @ vec[a].T) / np.outer(
            np.linalg.norm(others, axis=1), np.linalg.norm(vec[a], axis=1)
        )
        hits += int((cos.argmax(axis=0) == np.arange(len(EMOTIONS) - 1)).sum())
    assert hits >= 0.85 * n * (len(EMOTIONS) - 1)


def test_style_is_stored(pair) -> None:
    animals = pd.read_parquet(pair[0].parent / "truth" / "animals.parquet")
    cols = [c for c in animals.columns if c.startswith("style_pain_")]
    assert len(cols) == 10
    assert animals[cols].std().mean() > 0.1  # animals differ


def test_playback_has_no_jumps() -> None:
    face = load_identity("ECO_3_00B_M")
    a, b, w = playback(face, 600, fps=20.0, rng=np.random.default_rng(0))
    frames = face.frames.astype(np.float32)
    seq = (1 - w)[:, None, None] * frames[a] + w[:, None, None] * frames[b]
    step = np.abs(np.diff(seq, axis=0)).mean(axis=(1, 2))
    inside = np.concatenate(
        [np.abs(np.diff(frames[s:e], axis=0)).mean(axis=(1, 2)) for s, e in face.clips]
    )
    joins = np.abs(np.diff(frames[[e - 1 for _, e in face.clips[:-1]]], axis=0)).mean(axis=(1, 2))
    assert step.max() <= max(2.0 * np.percentile(inside, 99), 1.0)
    assert step.max() < np.median(joins)  # a cut between clips would be a jump this big
