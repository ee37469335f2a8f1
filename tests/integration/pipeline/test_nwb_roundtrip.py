"""A tiny real analyze run exported to NWB: inspector-clean, every array back, readable as input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import moving_square, write_video
from mouseface.io.events import read_events
from mouseface.io.nwb import export_nwb
from mouseface.io.nwb_input import read_nwb_session

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")


@pytest.fixture(scope="module")
def run_out(tmp_path_factory) -> Path:
    from mouseface.pipeline import analyze_video

    root = tmp_path_factory.mktemp("nwbrun")
    write_video(root / "face.mp4", moving_square(240, h=96, w=128), fps=20)
    (root / "ev.tsv").write_text(
        "onset\tduration\ttrial_type\tintensity\n3\t1\tsucrose\t0.1\n"
        "7\t1\ttail_shock\tn/a\n9.5\t0\tsucrose\t1.0\n"
    )
    analyze_video(root / "face.mp4", root / "ev.tsv", root / "out", report=False)
    return root / "out"


def test_exported_run_round_trips_and_reads_back(run_out: Path) -> None:
    (path,) = export_nwb(run_out)
    sid = path.stem
    frames = pd.read_parquet(run_out / "sessions" / sid / "frames.parquet")
    feats = xr.open_zarr(run_out / "sessions" / sid / "features.zarr")
    trials = pd.read_parquet(run_out / "trials.parquet")

    bad = [
        (m.importance.name, m.check_function_name, m.message)
        for m in nwbinspector.inspect_nwbfile(nwbfile_path=path)
        if m.importance.name in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR", "PYNWB_VALIDATION")
    ]
    assert bad == []

    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        beh = nwb.processing["behavior"]
        traces = [c for c in frames.columns if c not in ("frame", "time", "predicted")]
        assert {"change", "motion", "good"} <= set(traces)
        for col in traces:
            want = frames[col].to_numpy()
            want = want.astype(np.uint8) if want.dtype == bool else want.astype(np.float32)
            np.testing.assert_array_equal(beh[col].data[:], want, err_msg=col)
        np.testing.assert_array_equal(beh["face_shift"].data[:], feats["shift"].values)
        np.testing.assert_array_equal(beh["face_images"]["mean_face"].data[:], feats["mean_face"])
        roi = beh["face_roi"].to_dataframe().iloc[0]
        assert feats.attrs["roi"] is None  # the whole frame: exported as such
        assert [roi.x, roi.y, roi.width, roi.height] == [0, 0, 128, 96]
        tab = nwb.trials.to_dataframe()
        assert len(tab) == len(trials) == 3
        for col in trials.columns:
            if trials[col].dtype.kind in "fbiu":
                np.testing.assert_array_equal(tab[col].to_numpy(), trials[col].to_numpy(), col)
            else:
                assert list(tab[col]) == ["n/a" if pd.isna(v) else v for v in trials[col]], col

    s = read_nwb_session(path)
    assert s.video == (run_out.parent / "face.mp4").resolve()
    np.testing.assert_allclose(s.frame_times, frames["time"], atol=1e-7)
    ev = read_events(run_out.parent / "ev.tsv")
    pd.testing.assert_frame_equal(
        s.events.drop(columns="state"), ev.drop(columns="state"), check_dtype=False, atol=1e-9
    )
