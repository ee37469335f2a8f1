"""Readers of neural recordings: suite2p (2 planes), NWB round trip, plain tables, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.neural import READERS, read_neural, recording_dff


def _plane(d, F, Fneu, iscell, fs=15.0):
    d.mkdir(parents=True)
    np.save(d / "F.npy", F)
    np.save(d / "Fneu.npy", Fneu)
    np.save(d / "iscell.npy", iscell)
    np.save(d / "ops.npy", {"fs": fs}, allow_pickle=True)


def _suite2p(tmp_path, rng, n=(5, 3), t=300):
    root = tmp_path / "suite2p"
    planes = []
    for k, m in enumerate(n):
        F = rng.uniform(400, 600, (m, t)).astype(np.float32)
        Fneu = rng.uniform(100, 200, (m, t)).astype(np.float32)
        iscell = np.column_stack([np.arange(m) % 4 != 1, rng.uniform(0, 1, m)]).astype(float)
        _plane(root / f"plane{k}", F, Fneu, iscell)
        planes.append((F, Fneu, iscell))
    return root, planes


def test_suite2p_two_planes(tmp_path):
    rng = np.random.default_rng(0)
    root, planes = _suite2p(tmp_path, rng)
    rec = read_neural(root)
    keep = [p[2][:, 0] > 0.5 for p in planes]
    assert rec.n_neurons == sum(int(k.sum()) for k in keep)
    want_plane = np.concatenate([np.full(k.sum(), i) for i, k in enumerate(keep)])
    np.testing.assert_array_equal(rec.plane, want_plane)
    np.testing.assert_array_equal(rec.neuron, np.concatenate([np.flatnonzero(k) for k in keep]))
    want = np.concatenate([p[0][k] for p, k in zip(planes, keep, strict=True)])
    np.testing.assert_array_equal(rec.traces, want)
    assert rec.kind == "F" and rec.rate == 15.0
    np.testing.assert_allclose(rec.times, np.arange(300) / 15.0)
    assert rec.neuropil is not None and rec.neuropil.shape == rec.traces.shape
    all_rois = read_neural(root, format="suite2p", cells_only=False)
    assert all_rois.n_neurons == 8
    with pytest.raises(ValueError):
        rec.traces[0, 0] = 1.0  # frozen arrays


def test_suite2p_iscell_count_mismatch(tmp_path):
    rng = np.random.default_rng(1)
    root, _ = _suite2p(tmp_path, rng)
    np.save(root / "plane1" / "iscell.npy", np.ones((7, 2)))
    with pytest.raises(InputError, match=r"plane1.iscell\.npy: 7 ROIs but F\.npy has 3"):
        read_neural(root)


def test_suite2p_plane_lengths_and_nan(tmp_path):
    rng = np.random.default_rng(2)
    root, planes = _suite2p(tmp_path, rng)
    np.save(root / "plane1" / "F.npy", planes[1][0][:, :-1])
    np.save(root / "plane1" / "Fneu.npy", planes[1][1][:, :-1])
    with pytest.raises(InputError, match="different numbers of frames"):
        read_neural(root)
    F = planes[1][0].copy()
    F[0, 17] = np.nan
    np.save(root / "plane1" / "F.npy", F)
    np.save(root / "plane1" / "Fneu.npy", planes[1][1])
    with pytest.raises(InputError, match="NaN or infinite at sample 17"):
        read_neural(root)


def test_suite2p_without_rate(tmp_path):
    rng = np.random.default_rng(3)
    root, _ = _suite2p(tmp_path, rng, n=(3,))
    (root / "plane0" / "ops.npy").unlink()
    with pytest.raises(InputError, match="no frame rate"):
        read_neural(root)
    assert read_neural(root, fs=30.0).rate == 30.0


def test_nwb_round_trip(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel

    rng = np.random.default_rng(4)
    nwb = pynwb.NWBFile(
        session_description="test",
        identifier="x",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    device = nwb.create_device(name="scope")
    ch = OpticalChannel(name="green", description="g", emission_lambda=510.0)
    plane = nwb.create_imaging_plane(
        name="plane0",
        optical_channel=ch,
        description="p",
        device=device,
        excitation_lambda=920.0,
        imaging_rate=30.0,
        indicator="GCaMP6s",
        location="insula",
    )
    seg = ImageSegmentation()
    ps = seg.create_plane_segmentation(description="s", imaging_plane=plane, name="ps")
    for _ in range(4):
        ps.add_roi(image_mask=rng.uniform(0, 1, (8, 8)))
    ophys = nwb.create_processing_module(name="ophys", description="optical physiology")
    ophys.add(seg)
    region = ps.create_roi_table_region(region=[0, 1, 2, 3], description="all")
    data = rng.normal(0, 1, (200, 4)).astype(np.float32)
    ts = 2.0 + np.cumsum(rng.uniform(0.03, 0.04, 200))
    dff = DfOverF(name="DfOverF")
    ophys.add(dff)
    dff.create_roi_response_series(name="dff", data=data, rois=region, unit="n.a.", timestamps=ts)
    path = tmp_path / "rec.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    rec = read_neural(path)
    assert rec.kind == "dff" and rec.n_neurons == 4
    np.testing.assert_allclose(rec.traces, data.T)
    np.testing.assert_allclose(rec.times, ts)
    np.testing.assert_array_equal(rec.neuron, [0, 1, 2, 3])
    with pytest.raises(InputError, match="no ROI series named 'raw'"):
        read_neural(path, series="raw")


def test_nwb_fluorescence_with_rate_in_acquisition(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from pynwb.ophys import Fluorescence, ImageSegmentation, OpticalChannel

    rng = np.random.default_rng(7)
    nwb = pynwb.NWBFile(
        session_description="t", identifier="y", session_start_time=datetime(2024, 1, 1, tzinfo=UTC)
    )
    device = nwb.create_device(name="scope")
    ch = OpticalChannel(name="green", description="g", emission_lambda=510.0)
    planes = [
        nwb.create_imaging_plane(
            name=f"plane{k}",
            optical_channel=ch,
            description="p",
            device=device,
            excitation_lambda=920.0,
            imaging_rate=15.0,
            indicator="GCaMP",
            location="IC",
        )  # fmt: skip
        for k in range(2)
    ]
    seg = ImageSegmentation()
    ps = seg.create_plane_segmentation(description="s", imaging_plane=planes[1], name="ps")
    for _ in range(3):
        ps.add_roi(image_mask=rng.uniform(0, 1, (8, 8)))
    ophys = nwb.create_processing_module(name="ophys", description="o")
    ophys.add(seg)
    fl = Fluorescence(name="Fluorescence")
    ophys.add(fl)
    data = rng.uniform(100, 200, (150, 3)).astype(np.float32)
    region = ps.create_roi_table_region(region=[0, 2], description="two")
    fl.create_roi_response_series(
        name="raw", data=data[:, [0, 2]], rois=region, unit="a.u.", rate=15.0, starting_time=4.0
    )
    path = tmp_path / "f.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    rec = read_neural(path, format="nwb")
    assert rec.kind == "F" and rec.n_neurons == 2
    np.testing.assert_array_equal(rec.neuron, [0, 2])
    np.testing.assert_array_equal(rec.plane, [1, 1])
    np.testing.assert_allclose(rec.times, 4.0 + np.arange(150) / 15.0)
    np.testing.assert_allclose(rec.traces, data[:, [0, 2]].T)


def test_table_reader(tmp_path):
    rng = np.random.default_rng(5)
    t = np.arange(100) / 10.0
    df = pd.DataFrame({"time": t, "n3": rng.normal(size=100), "n7": rng.normal(size=100)})
    for name, write in (
        ("a.csv", lambda p: df.to_csv(p, index=False)),
        ("a.tsv", lambda p: df.to_csv(p, sep="\t", index=False)),
        ("a.parquet", lambda p: df.to_parquet(p)),
    ):
        write(tmp_path / name)
        rec = read_neural(tmp_path / name)
        np.testing.assert_array_equal(rec.neuron, [3, 7])
        np.testing.assert_allclose(rec.times, t)
        np.testing.assert_allclose(rec.traces[1], df["n7"], rtol=1e-6)
        assert rec.kind == "dff" and rec.rate == pytest.approx(10.0)
    df.loc[40, "n7"] = np.nan
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"bad\.csv: column 'n7' .* data row 41"):
        read_neural(tmp_path / "bad.csv")
    df.drop(columns="time").to_csv(tmp_path / "notime.csv", index=False)
    with pytest.raises(InputError, match="no 'time' column"):
        read_neural(tmp_path / "notime.csv")


def test_registry_and_dff(tmp_path):
    assert set(READERS) == {"suite2p", "nwb", "table"}
    with pytest.raises(TypeError):
        READERS["x"] = None  # type: ignore[index]  # read-only registry
    with pytest.raises(InputError, match="unknown neural format"):
        read_neural(tmp_path, format="tiff")
    rng = np.random.default_rng(6)
    root, _ = _suite2p(tmp_path, rng, n=(3,))
    rec = recording_dff(read_neural(root), window=5.0)
    assert rec.kind == "dff" and rec.neuropil is None and rec.traces.dtype == np.float32
    assert recording_dff(rec) is rec
