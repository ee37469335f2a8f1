"""The per-session and project stages pass frozen values on: neutral -> prototypes -> strength
-> trials, on small hand-made feature stores (no video)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import zarr

from mouseface.expression.prototypes import neutral_prototype, pearson_matrix, pearson_rows
from mouseface.io.config import ProjectConfig, SessionConfig
from mouseface.io.events import read_events
from mouseface.io.video import VideoInfo
from mouseface.pipeline.project import build_prototypes
from mouseface.pipeline.session import (
    SessionFeatures,
    SessionInputs,
    frame_table,
    neutral_session,
    session_strength,
    trial_rows,
)

FPS = 10.0
N = 200
D = 30


def _session(tmp_path: Path, sid: str, animal: str, seed: int) -> SessionFeatures:
    """A 20-s session with a 'puff' trial at 5 s and a 'sugar' trial at 12 s."""
    rng = np.random.default_rng(seed)
    face = rng.random(D).astype(np.float32)
    hog = np.tile(face, (N, 1)) + 0.01 * rng.random((N, D), dtype=np.float32)
    hog[50:70, :10] += 1.0  # puff response (5-7 s)
    hog[120:140, 10:20] += 1.0  # sugar response (12-14 s)
    store = tmp_path / sid / "features.zarr"
    g = zarr.open_group(str(store), mode="w", zarr_format=2)
    g.create_array("hog", data=hog, chunks=(64, D))
    ev = tmp_path / f"{sid}.tsv"
    ev.write_text("onset\tduration\ttrial_type\n5\t1\tpuff\n12\t1\tsugar\n")
    events = read_events(ev)
    events["emotion"] = events["trial_type"].map({"puff": "pain", "sugar": "pleasure"})
    sc = SessionConfig(id=sid, animal=animal, video=tmp_path / f"{sid}.mp4", events=ev)
    info = VideoInfo(path=sc.video, width=60, height=40, n_frames=N, fps=FPS, duration=20.0,
                     codec="h264")  # fmt: skip
    inputs = SessionInputs(cfg=sc, events=events, info=info, roi=None, video_sha256="x",
                           events_sha256="y", face_target=(40, 60))  # fmt: skip
    good = np.ones(N, bool)
    good[30:35] = False  # flagged baseline frames of the first trial
    return SessionFeatures(
        inputs=inputs, store=store, times=np.arange(N) / FPS,
        motion=np.zeros(N, np.float32), dark=~good, saturated=np.zeros(N, bool),
        outlier=np.zeros(N, bool), good=good, face_size=(40, 60),
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path):
    feats = [_session(tmp_path, "a1", "m1", 0), _session(tmp_path, "b1", "m2", 1)]
    cfg = ProjectConfig(sessions=[f.inputs.cfg for f in feats], prototype_frames=5)
    return feats, cfg


def test_values_are_frozen(project):
    feats, cfg = project
    f = feats[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.resumed = True  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        f.times[0] = 1.0
    s = neutral_session(f, cfg)
    with pytest.raises(ValueError, match="read-only"):
        s.change[:] = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.neutral = s.neutral  # type: ignore[misc]
    assert f.summary()["flagged_frames"] == 5
    assert f.fps == pytest.approx(FPS)


def test_neutral_change_prototypes_strength_trials(project):
    feats, cfg = project
    neutral = [neutral_session(f, cfg) for f in feats]
    s = neutral[0]
    hog = zarr.open_group(str(s.features.store), mode="r")["hog"][:]
    k = np.arange(N)
    base = ((k >= 30) & (k < 50)) | ((k >= 100) & (k < 120))  # the two baseline windows
    np.testing.assert_array_equal(s.neutral, neutral_prototype(hog, base & s.features.good))
    np.testing.assert_allclose(s.change, 1.0 - pearson_rows(hog, s.neutral), rtol=1e-6)
    assert s.change[50:70].mean() > 10 * s.change[30:50].mean()

    protos = build_prototypes(neutral, cfg)
    assert protos.emotions == ("pain", "pleasure")
    assert set(protos.animal) == {(a, e) for a in ("m1", "m2") for e in protos.emotions}
    np.testing.assert_array_equal(protos.for_animal("m1")[0], protos.animal[("m1", "pain")])
    # an animal without prototypes of its own is read out with the pooled ones
    np.testing.assert_array_equal(protos.for_animal("m9")[1], protos.pooled["pleasure"])

    st = session_strength(s, protos.emotions, protos.for_animal("m1"))
    np.testing.assert_allclose(
        st.strength, pearson_matrix(hog, protos.for_animal("m1")), rtol=1e-5, atol=1e-6
    )
    frames = frame_table(st)
    assert list(frames.columns[-2:]) == ["strength_pain", "strength_pleasure"]
    assert len(frames) == N and frames["good"].sum() == N - 5
    rows = trial_rows(st)
    assert list(rows.columns[:2]) == ["session", "animal"]
    assert rows["emotion"].tolist() == ["pain", "pleasure"]
    assert (rows["session"] == "a1").all() and (rows["animal"] == "m1").all()
    # each trial is strongest for its own emotion
    assert rows.loc[0, "strength_pain"] > rows.loc[0, "strength_pleasure"]
    assert rows.loc[1, "strength_pleasure"] > rows.loc[1, "strength_pain"]
