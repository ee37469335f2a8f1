"""Tests of mouseface.synth.generate_dataset on a small dataset (2 animals x 2 states)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
import yaml

from mouseface.errors import InputError
from mouseface.io.config import load_config
from mouseface.synth import AU_NAMES, EMOTIONS, STIMULUS_EMOTION, generate_dataset, planned_frames

SMALL = {"n_animals": 2, "seed": 3, "fps": 10.0, "size": (120, 160), "trials_per_stimulus": 1}


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, list[int]]:
    calls: list[int] = []
    out = tmp_path_factory.mktemp("synth") / "ds"
    yaml_path = generate_dataset(out, progress=calls.append, **SMALL)
    return yaml_path, calls


def test_writes_all_files(small) -> None:
    yaml_path, _ = small
    root = yaml_path.parent
    assert yaml_path.name == "mouseface.yaml"
    cfg = yaml.safe_load(yaml_path.read_text())
    assert cfg["emotions"] == dict(STIMULUS_EMOTION)
    assert cfg["windows"] == {"baseline": [-2, 0], "response": [0, 2]}
    assert len(cfg["sessions"]) == 4
    for s in cfg["sessions"]:
        assert set(s) == {"id", "animal", "subject", "video", "events", "roi", "state", "pose"}
        for key in ("video", "events", "pose"):
            assert not Path(s[key]).is_absolute()
            assert (root / s[key]).is_file()
        assert (root / "truth" / f"{s['id']}.parquet").is_file()
    assert (root / "truth" / "trials.parquet").is_file()
    assert (root / "truth" / "animals.parquet").is_file()


def test_config_validates_with_project_loader(small) -> None:
    cfg = load_config(small[0])
    assert [s.animal for s in cfg.sessions] == ["m1", "m1", "m2", "m2"]
    assert all(s.video.is_file() and s.events.is_file() for s in cfg.sessions)


def test_animals_have_every_class_and_both_states(small) -> None:
    root = small[0].parent
    cfg = yaml.safe_load(small[0].read_text())
    by_animal: dict[str, set[str]] = {}
    states: dict[str, set[str]] = {}
    for s in cfg["sessions"]:
        truth = pd.read_parquet(root / "truth" / f"{s['id']}.parquet")
        by_animal.setdefault(s["animal"], set()).update(truth["emotion"].unique())
        states.setdefault(s["animal"], set()).add(s["state"])
    for animal, emotions in by_animal.items():
        assert emotions == set(EMOTIONS), animal
        assert states[animal] == {"thirsty", "sated"}
    trials = pd.read_parquet(root / "truth" / "trials.parquet")
    for _, g in trials.groupby("animal"):
        assert set(g["emotion"]) == set(EMOTIONS[1:])


def test_events_inside_video_and_truth_matches_decoded_frames(small) -> None:
    root = small[0].parent
    fps = SMALL["fps"]
    for s in yaml.safe_load(small[0].read_text())["sessions"]:
        frames = _decode(root / s["video"])
        truth = pd.read_parquet(root / "truth" / f"{s['id']}.parquet")
        assert len(frames) == len(truth)
        h, w = frames[0].shape
        assert (h, w) == SMALL["size"]
        x, y, rw, rh = s["roi"]
        assert x >= 0 and y >= 0 and x + rw <= w and y + rh <= h
        events = pd.read_csv(root / s["events"], sep="\t")
        assert list(events.columns) == ["onset", "duration", "trial_type", "intensity", "state",
                                        "trial"]  # fmt: skip
        duration = len(frames) / fps
        assert (events["onset"] - 2.0 >= 0).all()  # baseline window inside the video
        assert (events["onset"] + 2.0 <= duration).all()  # response window inside the video
        assert (events["state"] == s["state"]).all()
        assert events["trial_type"].iloc[-1] == "licl"
        gaps = (
            events["onset"].to_numpy()[1:] - (events["onset"] + events["duration"]).to_numpy()[:-1]
        )
        assert (gaps >= 8.0).all()
        np.testing.assert_allclose(truth["time"], np.arange(len(truth)) / fps)
        for col in ("blink", "occlusion", "licking", "jitter_dx", "jitter_dy", "amplitude"):
            assert col in truth.columns
        assert all(f"au_{n}" in truth.columns for n in AU_NAMES)
        assert truth[["jitter_dx", "jitter_dy"]].abs().max().max() <= 2.0
        # the face responds to each stimulus: labelled frames follow each onset
        for ev in events.itertuples():
            i = int(np.ceil((ev.onset + 1.5) * fps))
            expected = STIMULUS_EMOTION[ev.trial_type]
            assert truth["amplitude"].iloc[i] > 0 and truth["emotion"].iloc[i] == expected


def test_progress_counts_every_frame(small) -> None:
    yaml_path, calls = small
    root = yaml_path.parent
    n = sum(len(pd.read_parquet(p)) for p in (root / "truth").glob("m*_s*.parquet"))
    assert sum(calls) == n == planned_frames(**{k: v for k, v in SMALL.items() if k != "size"})


def test_state_effect_and_malaise_persistence(small) -> None:
    root = small[0].parent
    trials = pd.read_parquet(root / "truth" / "trials.parquet")
    suc = trials[trials["trial_type"] == "sucrose"]
    for _, g in suc.groupby(["animal", "intensity"]):
        amp = g.set_index("state")["amplitude"]
        assert amp["thirsty"] > amp["sated"]
    licl = trials[trials["trial_type"] == "licl"].iloc[0]
    truth = pd.read_parquet(root / "truth" / f"{licl['session']}.parquet")
    late = truth[truth["time"] >= licl["onset"] + 15.0]
    assert (late["emotion"] == "malaise").all()


def test_deterministic(small, tmp_path: Path) -> None:
    """Same seed, same files; animal m1 does not depend on how many animals follow it."""
    root = small[0].parent
    again = generate_dataset(tmp_path / "again", **(SMALL | {"n_animals": 1})).parent
    for name in ("m1_s1", "m1_s2"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(root / "truth" / f"{name}.parquet"),
            pd.read_parquet(again / "truth" / f"{name}.parquet"),
        )
        assert (root / "events" / f"{name}.tsv").read_bytes() == (
            again / "events" / f"{name}.tsv"
        ).read_bytes()
    a, b = _decode(root / "videos" / "m1_s1.mp4"), _decode(again / "videos" / "m1_s1.mp4")
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_other_seed_differs_one_state_has_every_emotion(small, tmp_path: Path) -> None:
    kw = SMALL | {"n_animals": 1, "states": ("thirsty",), "seed": 4}
    other = generate_dataset(tmp_path / "other", **kw).parent
    events = (other / "events" / "m1_s1.tsv").read_text()
    assert events != (small[0].parent / "events" / "m1_s1.tsv").read_text()
    trials = pd.read_parquet(other / "truth" / "trials.parquet")
    assert set(trials["emotion"]) == set(EMOTIONS[1:])  # one session holds every emotion
    assert set(trials["state"]) == {"thirsty"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_animals": 0}, "n_animals"),
        ({"size": (121, 160)}, "even"),
        ({"fps": 0.0}, "fps"),
        ({"trials_per_stimulus": 0}, "trials_per_stimulus"),
        ({"states": ("hungry",)}, "states"),
        ({"licl_tail": 5.0}, "licl_tail must be >= 10 s"),
    ],
)
def test_bad_options(tmp_path: Path, kwargs, match) -> None:
    with pytest.raises(InputError, match=match):
        generate_dataset(tmp_path / "bad", **(SMALL | kwargs))
    assert not (tmp_path / "bad").exists()


def test_licl_tail_lengthens_every_session_by_the_difference() -> None:
    kw = {k: v for k, v in SMALL.items() if k != "size"}
    base = planned_frames(**kw)
    longer = planned_frames(**kw, licl_tail=360.0)
    n_sessions = SMALL["n_animals"] * 2  # thirsty and sated
    assert longer - base == pytest.approx(n_sessions * 270.0 * SMALL["fps"], abs=n_sessions)


def test_parallel_rendering_writes_the_same_files(tmp_path):
    kw = dict(n_animals=2, seed=3, fps=10.0, size=(96, 128), trials_per_stimulus=1, licl_tail=10.0,
              faces="cartoon")  # fmt: skip
    generate_dataset(tmp_path / "serial", **kw)
    generate_dataset(tmp_path / "parallel", **kw, n_jobs=2)
    videos = sorted(p.name for p in (tmp_path / "serial" / "videos").glob("*.mp4"))
    assert len(videos) == 4
    for name in videos:
        a = (tmp_path / "serial" / "videos" / name).read_bytes()
        assert a == (tmp_path / "parallel" / "videos" / name).read_bytes(), name
    for rel in ("mouseface.yaml", "truth/trials.parquet", "truth/m2_s2.parquet"):
        a = (tmp_path / "serial" / rel).read_bytes()
        assert a == (tmp_path / "parallel" / rel).read_bytes(), rel
