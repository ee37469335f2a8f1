"""Sessions given as NWB files run the same method as video + events: same trial table, frame
times from the NWB ImageSeries, imaging on the video clock, missing series as bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
import zarr
from typer.testing import CliRunner

from mouseface.cli import app
from mouseface.io.config import load_config
from mouseface.io.events import read_events
from mouseface.io.video import VideoReader
from mouseface.pipeline import run_project

pytest.importorskip("pynwb")
from nwb_builders import write_session_nwb  # noqa: E402 (needs pynwb)

T0 = 37.25  # NWB time of each session's first video frame
FPS = 15
FAST = {"hog": {"face_width": 128}, "decoders": ["prototype"]}


def _video_times(video: Path) -> np.ndarray:
    return np.concatenate([c.times for c in VideoReader(video).chunks(warn=False)])


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Two cartoon animals, one short session each, as video + events and as NWB files: m1's
    NWB has the frame timestamps and a trials table, m2's a rate and a core EventsTable."""
    from mouseface.synth import generate_dataset

    root = tmp_path_factory.mktemp("nwbin")
    cfg_path = generate_dataset(
        root,
        n_animals=2,
        states=(),
        trials_per_stimulus=1,
        faces="cartoon",
        size=(120, 160),
        licl_tail=10.0,
        fps=FPS,
    )
    cfg = yaml.safe_load(cfg_path.read_text())
    (root / "nwb").mkdir()
    nwb_sessions = []
    for s in cfg["sessions"]:
        video = root / s["video"]
        times = _video_times(video)
        kw = (
            {"timestamps": times + T0}
            if s["id"] == "m1_s1"
            else {"rate": float(FPS), "starting_time": T0, "n_frames": len(times)}
        )
        write_session_nwb(
            root / "nwb" / f"{s['id']}.nwb",
            video=video,
            events=read_events(root / s["events"]),
            events_as="trials" if s["id"] == "m1_s1" else "events_table",
            time_offset=T0,
            **kw,
        )
        nwb_sessions.append(
            {"id": s["id"], "animal": s["animal"], "nwb": f"nwb/{s['id']}.nwb", "roi": s["roi"]}
        )
    (root / "video.yaml").write_text(yaml.safe_dump({**cfg, **FAST}, sort_keys=False))
    nwb_cfg = {**cfg, **FAST, "sessions": nwb_sessions}
    (root / "nwb.yaml").write_text(yaml.safe_dump(nwb_cfg, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def runs(project: Path) -> dict[str, Path]:
    out = {}
    for kind in ("video", "nwb"):
        cfg = load_config(project / f"{kind}.yaml")
        run_project(cfg, project / f"out_{kind}", analyses=False, report=False)
        out[kind] = project / f"out_{kind}"
    return out


def test_nwb_sessions_give_the_video_and_events_tables(runs: dict[str, Path]) -> None:
    a = pd.read_parquet(runs["video"] / "trials.parquet")
    b = pd.read_parquet(runs["nwb"] / "trials.parquet")
    assert len(a) == 12 and set(a["session"]) == {"m1_s1", "m2_s1"}
    pd.testing.assert_frame_equal(a, b)  # trials hold no file paths
    for sid in ("m1_s1", "m2_s1"):
        fa = pd.read_parquet(runs["video"] / "sessions" / sid / "frames.parquet")
        fb = pd.read_parquet(runs["nwb"] / "sessions" / sid / "frames.parquet")
        pd.testing.assert_frame_equal(fa.drop(columns="time"), fb.drop(columns="time"))
        np.testing.assert_allclose(fb["time"], fa["time"], atol=1e-9)


def test_provenance_names_the_nwb_file_and_series(project: Path, runs: dict[str, Path]) -> None:
    prov = json.loads((runs["nwb"] / "provenance.json").read_text())
    m1, m2 = (prov["sessions"][s]["nwb"] for s in ("m1_s1", "m2_s1"))
    assert m1["file"] == str(project / "nwb" / "m1_s1.nwb")
    assert m1["video_series"] == m2["video_series"] == "face_video"
    assert m1["video"] == str((project / "videos" / "m1_s1.mp4").resolve())
    assert (m1["frame_times"], m2["frame_times"]) == ("timestamps", "rate")
    assert (m1["events_table"], m2["events_table"]) == ("intervals/trials", "events/stimuli")
    assert m1["first_frame_time_s"] == pytest.approx(T0)
    assert prov["inputs"][m1["file"]] == m1["sha256"]
    # the run's config says where the video came from, for the report, export and overlay
    videos = {s["id"]: s["video"] for s in prov["config"]["sessions"]}
    assert videos["m2_s1"] == str((project / "videos" / "m2_s1.mp4").resolve())
    store = zarr.open_group(str(runs["nwb"] / "sessions" / "m1_s1" / "features.zarr"), mode="r")
    assert "ImageSeries 'face_video'" in store.attrs["time_source"]


def _bad_nwb(project: Path, name: str, **kw) -> Path:
    ev = read_events(project / "events" / "m1_s1.tsv")
    video = project / "videos" / "m1_s1.mp4"
    args = {"video": video, "rate": float(FPS), "n_frames": 10, "events": ev, **kw}
    return write_session_nwb(project / "nwb" / name, **args)


@pytest.mark.parametrize(
    ("missing", "words"),
    [
        ("video", ["no ImageSeries with an external video file", "give 'video' in mouseface.yaml"]),
        ("events", ["no stimulus events", "give 'events' (a TSV) in mouseface.yaml"]),
    ],
)
def test_nwb_without_the_needed_series_is_bad_input(
    project: Path, runs: dict[str, Path], tmp_path: Path, missing: str, words: list[str]
) -> None:
    nwb = _bad_nwb(project, f"no_{missing}.nwb", **{missing: None})
    cfg = yaml.safe_load((project / "nwb.yaml").read_text())
    cfg["sessions"][0]["nwb"] = str(nwb)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = tmp_path / "out"
    (out / "sessions" / "m1_s1").mkdir(parents=True)
    earlier = {
        "trials.parquet": (runs["nwb"] / "trials.parquet").read_bytes(),
        "sessions/m1_s1/frames.parquet": (
            runs["nwb"] / "sessions" / "m1_s1" / "frames.parquet"
        ).read_bytes(),
    }
    for rel, data in earlier.items():
        (out / rel).write_bytes(data)
    res = CliRunner().invoke(app, ["run", str(bad), "--out", str(out)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())  # the console wraps long lines
    assert str(nwb) in text or nwb.name in text
    for w in words:
        assert w in text
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        earlier
    )
    for rel, data in earlier.items():
        assert (out / rel).read_bytes() == data


@pytest.fixture(scope="module")
def jittered(project: Path) -> Path:
    """m1's session as one NWB file whose frame times drift from the video's (1 % slower clock,
    +-3 ms jitter), with two ROI traces that start 1 s before the video; neuron 0 follows the
    sucrose trial."""
    root = project / "jittered"
    root.mkdir()
    video = project / "videos" / "m1_s1.mp4"
    ev = read_events(project / "events" / "m1_s1.tsv")
    times = _video_times(video)
    jitter = np.random.default_rng(3).uniform(-0.003, 0.003, times.size)
    jitter[0] = 0.0
    stamps = T0 + 1.01 * times + jitter
    img_t = np.arange(T0 - 1.0, T0 + times[-1], 0.1)
    data = np.random.default_rng(4).normal(0.0, 0.05, (img_t.size, 2)).astype(np.float32)
    for onset in ev.loc[ev["trial_type"] == "sucrose", "onset"]:
        data[(img_t >= T0 + onset) & (img_t < T0 + onset + 1.0), 0] += 1.0
    write_session_nwb(
        root / "rig.nwb",
        video=video,
        timestamps=stamps,
        events=ev,
        time_offset=T0,
        roi_traces=(img_t, data),
    )
    np.save(root / "stamps.npy", stamps)
    cfg = yaml.safe_load((project / "nwb.yaml").read_text())
    cfg["sessions"] = [{**cfg["sessions"][0], "nwb": "rig.nwb"}]
    (root / "mouseface.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return root


def test_frame_times_and_imaging_come_from_the_nwb(jittered: Path) -> None:
    out = jittered / "out"
    run_project(load_config(jittered / "mouseface.yaml"), out, analyses=False, report=False)
    stamps = np.load(jittered / "stamps.npy")
    frames = pd.read_parquet(out / "sessions" / "m1_s1" / "frames.parquet")
    np.testing.assert_array_equal(frames["time"].to_numpy(), stamps - T0)
    store = zarr.open_group(str(out / "sessions" / "m1_s1" / "features.zarr"), mode="r")
    np.testing.assert_array_equal(store["time"][:], stamps - T0)
    # the ROI traces were read as the session's neural data, on the video clock
    prov = json.loads((out / "provenance.json").read_text())
    neural = prov["config"]["sessions"][0]["neural"]
    assert neural["path"] == str(jittered / "rig.nwb") and neural["format"] == "nwb"
    neurons = pd.read_parquet(out / "neurons.parquet")
    assert set(neurons["neuron"]) == {0, 1}
    psth = pd.read_parquet(out / "neurons_psth.parquet")
    n0 = psth[(psth["neuron"] == 0) & (psth["emotion"] == "pleasure")]
    on = n0.loc[n0["mean"] > 0.5, "lag"]
    # the sucrose response starts at the event onset and lasts 1 s (not T0 s later)
    assert on.min() == pytest.approx(0.0, abs=0.11) and on.max() == pytest.approx(0.9, abs=0.11)
    # --resume reuses the store made with these NWB frame times
    run_project(
        load_config(jittered / "mouseface.yaml"), out, resume=True, analyses=False, report=False
    )
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["sessions"]["m1_s1"]["resumed_features"] is True
    again = pd.read_parquet(out / "sessions" / "m1_s1" / "frames.parquet")
    np.testing.assert_array_equal(again["time"].to_numpy(), stamps - T0)
    # the overlay pairs frames by index: the NWB times are ~0.7 s off the container's by the end
    assert stamps[-1] - T0 - _last_video_time(jittered) > 0.5
    args = ["overlay", str(out), "--session", "m1_s1", "--start", "60", "--end", "61"]
    res = CliRunner().invoke(app, [*args, "--out", str(jittered / "ov.mp4")])
    assert res.exit_code == 0, res.output
    assert (jittered / "ov.mp4").stat().st_size > 0


def _last_video_time(jittered: Path) -> float:
    """Container time (s) of the last frame of m1's video."""
    return float(_video_times(jittered.parent / "videos" / "m1_s1.mp4")[-1])


def test_nwb_frame_count_mismatch_is_bad_input(jittered: Path, tmp_path: Path) -> None:
    stamps = np.load(jittered / "stamps.npy")
    cfg = yaml.safe_load((jittered / "mouseface.yaml").read_text())
    write_session_nwb(
        tmp_path / "short.nwb",
        video=jittered.parent / "videos" / "m1_s1.mp4",
        timestamps=stamps[:-3],
        events=read_events(jittered.parent / "events" / "m1_s1.tsv"),
        time_offset=T0,
    )
    cfg["sessions"][0]["nwb"] = str(tmp_path / "short.nwb")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "short.nwb" in text and "'face_video'" in text
    assert f"{len(stamps) - 3} timestamps" in text and f"{len(stamps)} frames" in text
    assert not (tmp_path / "o" / "sessions" / "m1_s1" / "features.zarr").exists()
