"""NWB out and in: export of an output folder, round trip with pynwb, nwbinspector, NWB input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mouseface.errors import InputError
from mouseface.io.events import EVENT_COLUMNS
from mouseface.io.nwb import NWBExportOptions, export_nwb, export_session_nwb
from mouseface.io.nwb_input import read_nwb_session

pynwb = pytest.importorskip("pynwb")

EMOTIONS = ("pain", "pleasure")


def _frames(n: int, times: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    flags = rng.random((n, 3)) < 0.1
    df = pd.DataFrame(
        {
            "frame": np.arange(n, dtype=np.int64),
            "time": times,
            "motion": rng.random(n).astype(np.float32),
            "dark": flags[:, 0],
            "saturated": flags[:, 1],
            "motion_outlier": flags[:, 2],
            "good": ~flags.any(axis=1),
            "change": rng.random(n).astype(np.float32),
        }
    )
    for e in EMOTIONS:
        df[f"strength_{e}"] = rng.normal(size=n).astype(np.float32)
    p = rng.dirichlet(np.ones(len(EMOTIONS)), size=n)
    for i, e in enumerate(EMOTIONS):
        df[f"p_{e}"] = p[:, i]
    labels = np.array(EMOTIONS, dtype=object)[p.argmax(axis=1)]
    labels[:3] = None  # frames without a prediction
    df["predicted"] = pd.Series(labels, dtype=object)
    return df


def _trials(session: str, animal: str, rng: np.random.Generator) -> pd.DataFrame:
    n = 4
    df = pd.DataFrame(
        {
            "session": session,
            "animal": animal,
            "trial": np.arange(1, n + 1, dtype=np.int64),
            "trial_type": ["sucrose", "tail_shock", "sucrose", "tail_shock"],
            "emotion": ["pleasure", "pain", "pleasure", "pain"],
            "intensity": [0.1, np.nan, 0.3, 200.0],
            "state": ["thirsty", None, "sated", "thirsty"],
            "onset": [1.0, 2.5, 4.25, 6.0],
            "duration": [2.0, 0.5, 2.0, 0.0],
            "n_baseline": np.full(n, 40, dtype=np.int64),
            "valid": [True, False, True, True],
            "response": rng.normal(size=n),
            "predicted": ["pleasure", "pain", "pain", "pain"],
        }
    )
    for e in EMOTIONS:
        df[f"strength_{e}"] = rng.normal(size=n)
        df[f"p_{e}"] = rng.random(n)
    return df


def make_output_folder(
    root: Path, *, vfr: bool = False, with_video: bool = True, neural: bool = True
) -> Path:
    """A small mouseface output folder written by hand (two sessions, one animal)."""
    rng = np.random.default_rng(0)
    out = root / "out"
    n = 160
    cfg_sessions, prov_sessions, trials = [], {}, []
    for k, sid in enumerate(("s1", "s2")):
        times = np.arange(n) / 20.0
        if vfr:
            times = np.cumsum(np.r_[0.0, rng.uniform(0.04, 0.06, n - 1)])
        sdir = out / "sessions" / sid
        sdir.mkdir(parents=True)
        _frames(n, times, rng).to_parquet(sdir / "frames.parquet", index=False)
        ds = xr.Dataset(
            {
                "hog": (("frame", "feature"), rng.random((n, 8)).astype(np.float32)),
                "motion": (("frame",), rng.random(n).astype(np.float32)),
                "shift": (("frame", "axis"), rng.normal(size=(n, 2)).astype(np.float32)),
                "mean_face": (("y", "x"), rng.random((12, 16)).astype(np.float32)),
            },
            coords={"time": (("frame",), times)},
            attrs={"roi": [3 + k, 4, 40, 30], "face_size": [12, 16], "animal": "m1"},
        )
        ds.to_zarr(sdir / "features.zarr", mode="w", zarr_format=2, consolidated=True)
        video = root / "videos" / f"{sid}.mp4"
        if with_video:
            video.parent.mkdir(exist_ok=True)
            video.write_bytes(b"not decoded by these tests")
        cfg_sessions.append({"id": sid, "animal": "m1", "video": str(video), "events": None})
        prov_sessions[sid] = {"animal": "m1", "n_frames": n, "fps": 20.0}
        trials.append(_trials(sid, "m1", rng))
    pd.concat(trials, ignore_index=True).to_parquet(out / "trials.parquet", index=False)
    if neural:
        pd.DataFrame(
            {
                "session": ["s1", "s1", "s2"],
                "neuron": [0, 1, 0],
                "emotion": ["pain", "pleasure", "pain"],
                "r": [0.4, -0.1, 0.2],
                "q": [0.01, 0.5, 0.2],
            }
        ).to_parquet(out / "neurons.parquet", index=False)
        pd.DataFrame({"session": ["s2"], "target": ["insula"], "effect": [0.3]}).to_parquet(
            out / "opto.parquet", index=False
        )
    prov = {
        "package": "mouseface",
        "version": "0.1.0",
        "created": "2026-01-02T03:04:05+00:00",
        "config": {"sessions": cfg_sessions},
        "parameters": {"hog": {"orientations": 8}},
        "sessions": prov_sessions,
    }
    (out / "provenance.json").write_text(json.dumps(prov))
    return out


@pytest.fixture
def out_folder(tmp_path: Path) -> Path:
    return make_output_folder(tmp_path)


@pytest.fixture(scope="module", params=[False, True], ids=["cfr", "vfr"])
def exported(request, tmp_path_factory) -> tuple[Path, Path]:
    """(output folder, NWB export of its session s1); constant or variable frame rate."""
    root = tmp_path_factory.mktemp("nwb")
    out = make_output_folder(root, vfr=request.param)
    return out, export_session_nwb(out, "s1", root / "nwb" / "s1.nwb")


def _regular(out: Path) -> bool:
    t = pd.read_parquet(out / "sessions" / "s1" / "frames.parquet")["time"].to_numpy()
    return bool(np.allclose(np.diff(t), 0.05))


def _series(nwb, name: str) -> np.ndarray:
    return np.asarray(nwb.processing["behavior"][name].data[:])


def _times(ts) -> np.ndarray:
    if ts.timestamps is not None:
        return np.asarray(ts.timestamps[:])
    return ts.starting_time + np.arange(ts.data.shape[0]) / ts.rate


def test_export_round_trip_every_array(exported: tuple[Path, Path]) -> None:
    out, path = exported
    vfr = not _regular(out)
    frames = pd.read_parquet(out / "sessions" / "s1" / "frames.parquet")
    feats = xr.open_zarr(out / "sessions" / "s1" / "features.zarr")
    trials = pd.read_parquet(out / "trials.parquet")
    trials = trials[trials["session"] == "s1"].reset_index(drop=True)
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        beh = nwb.processing["behavior"]
        # every per-frame trace, with the frame times
        for col in frames.columns:
            if col in ("frame", "time", "predicted"):
                continue
            got = _series(nwb, col)
            want = frames[col].to_numpy()
            if want.dtype == bool:
                np.testing.assert_array_equal(got, want.astype(np.uint8), err_msg=col)
            else:
                np.testing.assert_array_equal(got, want.astype(np.float32), err_msg=col)
            np.testing.assert_allclose(_times(beh[col]), frames["time"], rtol=0, atol=1e-7)
        assert (beh["change"].timestamps is not None) is vfr
        # decoder labels as codes, legend in the description
        codes = _series(nwb, "predicted")
        legend = dict(
            item.split("=")[::-1]
            for item in beh["predicted"].description.split(": ")[1].split("; ")[0].split(", ")
        )
        labels = [
            None if c < 0 else next(k for k, v in legend.items() if int(v) == c) for c in codes
        ]
        assert labels == [None if pd.isna(v) else v for v in frames["predicted"]]
        assert labels[:3] == [None] * 3 and set(labels[3:]) == set(EMOTIONS)
        # face: shift, ROI, mean face
        np.testing.assert_array_equal(_series(nwb, "face_shift"), feats["shift"].values)
        roi = beh["face_roi"].to_dataframe().iloc[0]
        assert [roi.x, roi.y, roi.width, roi.height] == feats.attrs["roi"]
        assert [roi.face_height, roi.face_width] == feats.attrs["face_size"]
        np.testing.assert_array_equal(
            beh["face_images"]["mean_face"].data[:], feats["mean_face"].values
        )
        # trials: every column of this session's rows
        tab = nwb.trials.to_dataframe()
        # the trial spans baseline start (-2 s, clipped at 0) to response end (2 s) or stimulus end
        np.testing.assert_allclose(tab["start_time"], [0.0, 0.5, 2.25, 4.0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(tab["stop_time"], [3.0, 4.5, 6.25, 8.0], rtol=0, atol=1e-12)
        for col in trials.columns:
            want = trials[col]
            if want.dtype.kind == "f":
                np.testing.assert_array_equal(tab[col].to_numpy(float), want.to_numpy(float))
            elif want.dtype.kind in "biu":
                np.testing.assert_array_equal(tab[col].to_numpy(), want.to_numpy(), err_msg=col)
            else:
                assert list(tab[col]) == [("n/a" if pd.isna(v) else v) for v in want], col
        # stimulus events (core EventsTable)
        ev = nwb.events["stimulus_events"].to_dataframe()
        np.testing.assert_allclose(ev["timestamp"], trials["onset"], atol=1e-9)
        np.testing.assert_allclose(ev["duration"], trials["duration"], atol=1e-9)
        assert list(ev["trial_type"]) == list(trials["trial_type"])
        assert list(ev["trial"]) == list(trials["trial"])
        # neural and opto rows of this session only
        neurons = nwb.analysis["neurons"].to_dataframe()
        assert list(neurons["neuron"]) == [0, 1] and list(neurons["r"]) == [0.4, -0.1]
        assert "opto" not in nwb.analysis  # s1 has no opto rows
        # metadata
        assert nwb.subject.subject_id == "m1" and nwb.subject.species == "Mus musculus"
        assert nwb.session_id == "s1"
        assert nwb.session_start_time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        notes = json.loads(nwb.notes.split("(JSON): ", 1)[1])
        assert notes["version"] == "0.1.0" and notes["parameters"]["hog"]["orientations"] == 8
        assert nwb.source_script.startswith("mouseface ")
        video = nwb.acquisition["face_video"]
        assert list(video.external_file[:]) == ["../videos/s1.mp4"]
        np.testing.assert_allclose(_times_video(video, len(frames)), frames["time"], atol=1e-7)


def _times_video(video, n: int) -> np.ndarray:
    if video.timestamps is not None:
        return np.asarray(video.timestamps[:])
    return video.starting_time + np.arange(n) / video.rate


def test_export_writes_opto_for_its_session(out_folder: Path, tmp_path: Path) -> None:
    path = export_session_nwb(out_folder, "s2", tmp_path / "s2.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        opto = nwb.analysis["opto"].to_dataframe()
        assert list(opto["target"]) == ["insula"] and list(opto["effect"]) == [0.3]


def test_nwbinspector_finds_no_critical_or_violation(exported: tuple[Path, Path]) -> None:
    nwbinspector = pytest.importorskip("nwbinspector")
    path = exported[1]
    messages = list(nwbinspector.inspect_nwbfile(nwbfile_path=path))
    bad = [
        (m.importance.name, m.check_function_name, m.message)
        for m in messages
        if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR", "PYNWB_VALIDATION")
    ]
    assert bad == []
    # the inspector did run: it reports the missing experimenter as a suggestion
    assert any(m.check_function_name == "check_experimenter_exists" for m in messages)


def test_export_options_reach_the_file(out_folder: Path, tmp_path: Path) -> None:
    start = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    opts = NWBExportOptions(
        session_start_time=start,
        subject_age="P90D",
        subject_sex="F",
        experimenter=["Doe, Jane"],
        lab="Gogolla",
        link_video=False,
    )
    path = export_session_nwb(out_folder, "s1", tmp_path / "s1.nwb", options=opts, identifier="x1")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert nwb.session_start_time == start
        assert nwb.subject.age == "P90D" and nwb.subject.sex == "F"
        assert list(nwb.experimenter) == ["Doe, Jane"] and nwb.lab == "Gogolla"
        assert nwb.identifier == "x1"
        assert "face_video" not in nwb.acquisition


def test_export_nwb_writes_every_session(out_folder: Path) -> None:
    paths = export_nwb(out_folder)
    assert [p.name for p in paths] == ["s1.nwb", "s2.nwb"]
    assert all(p.parent == out_folder / "nwb" and p.stat().st_size > 0 for p in paths)


def test_export_is_atomic(out_folder: Path, tmp_path: Path, monkeypatch) -> None:
    dest = tmp_path / "s1.nwb"
    dest.write_bytes(b"previous export")

    def broken_write(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        export_session_nwb(out_folder, "s1", dest)
    assert dest.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_unknown_session_names_the_known_ones(out_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"session 'nope'.*s1, s2"):
        export_session_nwb(out_folder, "nope", tmp_path / "x.nwb")


def test_export_bad_options(out_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="subject_sex"):
        export_session_nwb(
            out_folder, "s1", tmp_path / "x.nwb", options=NWBExportOptions(subject_sex="male")
        )
    with pytest.raises(InputError, match=r"\.nwb"):
        export_session_nwb(out_folder, "s1", tmp_path / "x.h5")
    with pytest.raises(InputError, match="no sessions"):
        export_nwb(tmp_path / "empty")


# ---------------------------------------------------------------- NWB in


def test_read_exported_session_gives_events_and_frame_times(exported: tuple[Path, Path]) -> None:
    out, path = exported
    vfr = not _regular(out)
    s = read_nwb_session(path)
    frames = pd.read_parquet(out / "sessions" / "s1" / "frames.parquet")
    trials = pd.read_parquet(out / "trials.parquet")
    trials = trials[trials["session"] == "s1"].reset_index(drop=True)
    assert s.video == (out.parent / "videos" / "s1.mp4").resolve()
    assert s.video_series == "face_video" and s.events_table == "events/stimulus_events"
    np.testing.assert_allclose(s.frame_times, frames["time"], rtol=0, atol=1e-7)
    assert (s.rate is None) is vfr
    assert list(s.events.columns) == list(EVENT_COLUMNS)
    np.testing.assert_allclose(s.events["onset"], trials["onset"], atol=1e-9)
    np.testing.assert_allclose(s.events["duration"], trials["duration"], atol=1e-9)
    np.testing.assert_array_equal(s.events["intensity"], trials["intensity"])
    assert list(s.events["trial_type"]) == list(trials["trial_type"])
    assert list(s.events["state"]) == [None if pd.isna(v) else v for v in trials["state"]]
    assert list(s.events["trial"]) == list(trials["trial"])
    assert not s.has_ophys and not s.has_opto


def _nwbfile(**kw) -> pynwb.NWBFile:
    return pynwb.NWBFile(
        session_description="test",
        identifier="t",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
        **kw,
    )


def _write(nwbfile: pynwb.NWBFile, path: Path) -> Path:
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def _add_video(nwbfile: pynwb.NWBFile, root: Path, times: np.ndarray, name: str = "cam") -> None:
    from pynwb.image import ImageSeries

    (root / "face.mp4").write_bytes(b"x")
    nwbfile.add_acquisition(
        ImageSeries(
            name=name,
            description="face camera",
            external_file=["face.mp4"],
            starting_frame=[0],
            format="external",
            timestamps=times,
            unit="n.a.",
        )
    )


def _add_trials(nwbfile: pynwb.NWBFile, column: str = "stimulus") -> None:
    nwbfile.add_trial_column(column, "stimulus name")
    nwbfile.add_trial_column("dose", "concentration")
    for t, s, d in ((12.0, "quinine", 0.5), (11.0, "sucrose", 0.1)):
        nwbfile.add_trial(start_time=t, stop_time=t + 2.0, **{column: s, "dose": d})


def test_read_time_intervals_on_the_video_clock(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    times = 10.0 + np.cumsum(np.r_[0.0, np.full(99, 0.05)])
    _add_video(nwbfile, tmp_path, times)
    _add_trials(nwbfile)
    path = _write(nwbfile, tmp_path / "rig.nwb")
    s = read_nwb_session(path, trial_type_column="stimulus", intensity_column="dose")
    assert s.events_table == "intervals/trials" and s.video_series == "cam"
    assert s.first_frame_time == pytest.approx(10.0)
    np.testing.assert_allclose(s.frame_times, times - 10.0)
    # sorted by onset, onsets from the first frame, durations from stop - start
    assert list(s.events["trial_type"]) == ["sucrose", "quinine"]
    np.testing.assert_allclose(s.events["onset"], [1.0, 2.0])
    np.testing.assert_allclose(s.events["duration"], [2.0, 2.0])
    np.testing.assert_allclose(s.events["intensity"], [0.1, 0.5])
    assert list(s.events["trial"]) == [2, 1]
    assert s.events["state"].isna().all()


def test_read_missing_trial_type_column_names_table_and_fix(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    _add_video(nwbfile, tmp_path, np.arange(50) / 20 + 10.0)
    _add_trials(nwbfile)
    path = _write(nwbfile, tmp_path / "rig.nwb")
    with pytest.raises(InputError) as err:
        read_nwb_session(path)
    msg = str(err.value)
    assert str(path) in msg and "intervals/trials" in msg and "'trial_type'" in msg
    assert "stimulus" in msg and "trial_type_column" in msg


def test_read_without_video_series(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    _add_trials(nwbfile, column="trial_type")
    path = _write(nwbfile, tmp_path / "rig.nwb")
    with pytest.raises(InputError, match=r"rig\.nwb: no ImageSeries with an external video"):
        read_nwb_session(path)
    s = read_nwb_session(path, require_video=False)
    assert s.video is None and s.frame_times is None
    assert list(s.events["trial_type"]) == ["sucrose", "quinine"]
    np.testing.assert_allclose(s.events["onset"], [11.0, 12.0])


def test_read_without_events(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    _add_video(nwbfile, tmp_path, np.arange(50) / 20)
    path = _write(nwbfile, tmp_path / "rig.nwb")
    with pytest.raises(InputError, match=r"rig\.nwb: no stimulus events.*mouseface\.yaml"):
        read_nwb_session(path)
    assert read_nwb_session(path, require_events=False).events is None


def test_read_video_file_missing(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    _add_video(nwbfile, tmp_path, np.arange(50) / 20)
    _add_trials(nwbfile, column="trial_type")
    path = _write(nwbfile, tmp_path / "rig.nwb")
    (tmp_path / "face.mp4").unlink()
    with pytest.raises(InputError, match=r"'cam' \(face\.mp4\) is not at"):
        read_nwb_session(path)
    assert read_nwb_session(path, check_video_exists=False).video == tmp_path / "face.mp4"


def test_read_event_before_first_frame(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    _add_video(nwbfile, tmp_path, 11.5 + np.arange(50) / 20)
    _add_trials(nwbfile, column="trial_type")
    path = _write(nwbfile, tmp_path / "rig.nwb")
    with pytest.raises(InputError, match=r"trial 2 starts 0\.500 s before the first video frame"):
        read_nwb_session(path)


def test_read_ambiguous_and_named_series(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    _add_video(nwbfile, tmp_path, np.arange(50) / 20, name="cam")
    _add_video(nwbfile, tmp_path, np.arange(50) / 20, name="side")
    _add_trials(nwbfile, column="trial_type")
    path = _write(nwbfile, tmp_path / "rig.nwb")
    with pytest.raises(InputError, match=r"several ImageSeries.*cam, side"):
        read_nwb_session(path)
    assert read_nwb_session(path, video_series="side").video_series == "side"
    with pytest.raises(InputError, match=r"no ImageSeries named 'top'.*cam, side"):
        read_nwb_session(path, video_series="top")
    with pytest.raises(InputError, match=r"no events table 'stim'.*intervals/trials"):
        read_nwb_session(path, video_series="cam", events_table="stim")


def test_read_not_nwb(tmp_path: Path) -> None:
    bad = tmp_path / "x.nwb"
    bad.write_text("hello")
    with pytest.raises(InputError, match=r"x\.nwb: cannot be opened as an NWB"):
        read_nwb_session(bad)
    with pytest.raises(InputError, match="not found"):
        read_nwb_session(tmp_path / "missing.nwb")


def test_read_reports_ophys_and_opto_paths(tmp_path: Path) -> None:
    from pynwb.ogen import OptogeneticSeries
    from pynwb.ophys import OpticalChannel, TwoPhotonSeries

    nwbfile = _nwbfile()
    _add_video(nwbfile, tmp_path, np.arange(50) / 20)
    _add_trials(nwbfile, column="trial_type")
    device = nwbfile.create_device(name="scope", description="2p microscope")
    plane = nwbfile.create_imaging_plane(
        name="plane",
        optical_channel=OpticalChannel(name="ch", description="green", emission_lambda=520.0),
        description="insula",
        device=device,
        excitation_lambda=920.0,
        indicator="GCaMP6s",
        location="insular cortex",
    )
    nwbfile.add_acquisition(
        TwoPhotonSeries(
            name="twop",
            imaging_plane=plane,
            data=np.zeros((5, 4, 4), dtype=np.uint16),
            rate=10.0,
            unit="n.a.",
        )
    )
    site = nwbfile.create_ogen_site(
        name="site", device=device, description="fibre", excitation_lambda=470.0, location="insula"
    )
    nwbfile.add_stimulus(OptogeneticSeries(name="laser", data=np.zeros(10), site=site, rate=20.0))
    path = _write(nwbfile, tmp_path / "rig.nwb")
    s = read_nwb_session(path)
    assert s.has_ophys and s.ophys_series == ("acquisition/twop",)
    assert s.has_opto and "stimulus/presentation/laser" in s.opto_series


def test_read_non_integer_trial_ids(tmp_path: Path) -> None:
    nwbfile = _nwbfile()
    nwbfile.add_trial_column("trial_type", "stimulus name")
    nwbfile.add_trial_column("trial", "trial id")
    nwbfile.add_trial(start_time=1.0, stop_time=2.0, trial_type="sucrose", trial=1.5)
    path = _write(nwbfile, tmp_path / "rig.nwb")
    with pytest.raises(InputError, match=r"row 0: 'trial' is 1\.5, not an integer"):
        read_nwb_session(path, require_video=False)
