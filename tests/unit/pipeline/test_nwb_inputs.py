"""A session given as an NWB file: what is taken from it, one clock, frame-count check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import moving_square, write_video
from mouseface.errors import InputError
from mouseface.io.config import config_from_dict
from mouseface.neural.prepare import prepare_recording
from mouseface.pipeline.nwb_inputs import nwb_frame_times, resolve_nwb
from mouseface.pipeline.session import validate_session

pytest.importorskip("pynwb")
from nwb_builders import write_session_nwb  # noqa: E402 (needs pynwb)

T0 = 100.0  # NWB time of the first video frame
FPS = 20


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "onset": [1.5, 3.0],
            "duration": [1.0, 0.5],
            "trial_type": ["sucrose", "tail_shock"],
            "intensity": [0.1, 300.0],
            "trial": [1, 2],
        }
    )


@pytest.fixture
def rig(tmp_path: Path) -> Path:
    """A folder with ``videos/face.mp4`` (100 frames, 20 fps) and ``nwb/``."""
    (tmp_path / "videos").mkdir()
    (tmp_path / "nwb").mkdir()
    write_video(tmp_path / "videos" / "face.mp4", moving_square(100), fps=FPS)
    return tmp_path


def _cfg(root: Path, **session):
    data = {
        "sessions": [{"id": "s1", "animal": "m1", **session}],
        "emotions": {"sucrose": "pleasure", "tail_shock": "pain"},
    }
    return config_from_dict(data, base=root)


def test_nwb_session_takes_video_events_and_traces(rig: Path) -> None:
    times = T0 + np.arange(100) / FPS
    # imaging starts 2 s before the video on the same NWB clock; neuron 0 fires from the
    # sucrose onset (NWB 101.5 s) for 1 s, neuron 1 is flat
    img_t = np.arange(T0 - 2.0, T0 + 6.0, 0.1)
    data = np.zeros((img_t.size, 2), dtype=np.float32)
    data[(img_t >= T0 + 1.5 - 1e-9) & (img_t < T0 + 2.5 - 1e-9), 0] = 1.0
    nwb = write_session_nwb(
        rig / "nwb" / "s1.nwb",
        video=rig / "videos" / "face.mp4",
        timestamps=times,
        events=_events(),
        time_offset=T0,
        roi_traces=(img_t, data),
    )
    cfg = _cfg(rig, nwb="nwb/s1.nwb")
    sc, got = resolve_nwb(cfg.sessions[0])
    assert sc.video == (rig / "videos" / "face.mp4").resolve()
    assert sc.neural is not None and sc.neural.path == nwb and sc.neural.format == "nwb"
    assert got.video and got.events and got.neural_origin == pytest.approx(T0)
    assert got.provenance()["video_series"] == "face_video"
    assert got.provenance()["events_table"] == "intervals/trials"
    assert got.provenance()["roi_traces"] == ["processing/ophys/DfOverF/dff"]

    s = validate_session(cfg.sessions[0], cfg, strict_emotions=True)
    assert s.events_file == nwb and s.nwb.provenance() == got.provenance() and not s.opto_only
    np.testing.assert_allclose(s.events["onset"], [1.5, 3.0])
    assert list(s.events["emotion"]) == ["pleasure", "pain"]

    # one clock: the imaging times minus the first frame's NWB time are on the video clock,
    # so neuron 0 turns on at the sucrose onset of the events table
    prep = prepare_recording(
        sc.neural.path,
        format="nwb",
        time_origin=got.neural_origin,
        video_times=got.session.frame_times,
    )
    rec = prep.recording
    np.testing.assert_allclose(rec.times, img_t - T0)
    on = rec.times[rec.traces[0] > 0.5]
    assert on[0] == pytest.approx(s.events["onset"].iloc[0], abs=1e-9)
    assert on[-1] == pytest.approx(s.events["onset"].iloc[0] + 0.9, abs=1e-9)
    assert prep.clock.method == "nwb" and prep.clock.offset == pytest.approx(-T0)
    assert prep.overlap == pytest.approx(100 / FPS - 1 / FPS, abs=0.11)


def test_explicit_video_and_events_win(rig: Path) -> None:
    write_session_nwb(
        rig / "nwb" / "s1.nwb",
        video=rig / "videos" / "face.mp4",
        timestamps=T0 + np.arange(100) / FPS,
        events=_events(),
        time_offset=T0,
    )
    other = write_video(rig / "videos" / "other.mp4", moving_square(80, seed=1), fps=FPS)
    (rig / "ev.tsv").write_text("onset\tduration\ttrial_type\n2\t1\tsucrose\n")
    cfg = _cfg(rig, nwb="nwb/s1.nwb", video="videos/other.mp4", events="ev.tsv")
    sc, got = resolve_nwb(cfg.sessions[0])
    assert sc.video == other and not got.video and not got.events
    assert got.frame_times_key is None  # the explicit video keeps its own frame times
    assert sc.neural is None and got.neural_origin is None  # the file has no ROI traces
    s = validate_session(cfg.sessions[0], cfg, strict_emotions=True)
    assert s.events_file == rig / "ev.tsv" and list(s.events["onset"]) == [2.0]


def test_frame_times_count_must_match_the_video(rig: Path) -> None:
    times = T0 + np.cumsum(np.r_[0.0, np.full(99, 0.05) + 0.002 * np.sin(np.arange(99))])
    write_session_nwb(
        rig / "nwb" / "s1.nwb",
        video=rig / "videos" / "face.mp4",
        timestamps=times,
        events=_events(),
        time_offset=T0,
    )
    _, got = resolve_nwb(_cfg(rig, nwb="nwb/s1.nwb").sessions[0])
    video = rig / "videos" / "face.mp4"
    np.testing.assert_allclose(
        nwb_frame_times(got, n_decoded=100, decode_error=None, video=video), times - T0
    )
    # a video that broke in the middle: the times of the frames before the break
    part = nwb_frame_times(got, n_decoded=60, decode_error={"frame": 60}, video=video)
    np.testing.assert_allclose(part, times[:60] - T0)
    with pytest.raises(InputError) as err:
        nwb_frame_times(got, n_decoded=98, decode_error=None, video=video)
    msg = str(err.value)
    assert "s1.nwb" in msg and "'face_video'" in msg and "100 timestamps" in msg
    assert "98 frames" in msg and "give 'video' beside 'nwb'" in msg


def test_rate_series_gives_regular_times(rig: Path) -> None:
    write_session_nwb(
        rig / "nwb" / "s1.nwb",
        video=rig / "videos" / "face.mp4",
        rate=25.0,
        starting_time=T0,
        n_frames=100,
        events=_events(),
        events_as="events_table",
        time_offset=T0,
    )
    _, got = resolve_nwb(_cfg(rig, nwb="nwb/s1.nwb").sessions[0])
    assert got.session.events_table == "events/stimuli"
    np.testing.assert_allclose(got.session.events["onset"], [1.5, 3.0])
    times = nwb_frame_times(got, n_decoded=100, decode_error=None, video=rig / "face.mp4")
    np.testing.assert_allclose(times, np.arange(100) / 25.0)
    with pytest.raises(InputError, match="lists 100 frames"):
        nwb_frame_times(got, n_decoded=101, decode_error=None, video=rig / "face.mp4")
    assert got.provenance()["frame_times"] == "rate"


@pytest.mark.parametrize(
    ("missing", "words"),
    [
        ("video", ["no ImageSeries with an external video file", "give 'video'"]),
        ("events", ["no stimulus events", "give 'events'"]),
    ],
)
def test_missing_series_names_file_and_fix(rig: Path, missing: str, words: list[str]) -> None:
    write_session_nwb(
        rig / "nwb" / "s1.nwb",
        video=None if missing == "video" else rig / "videos" / "face.mp4",
        timestamps=T0 + np.arange(100) / FPS,
        events=None if missing == "events" else _events(),
        time_offset=T0,
    )
    with pytest.raises(InputError) as err:
        resolve_nwb(_cfg(rig, nwb="nwb/s1.nwb").sessions[0])
    msg = str(err.value)
    assert str(rig / "nwb" / "s1.nwb") in msg
    for w in words:
        assert w in msg
