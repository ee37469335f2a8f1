"""Clock mapping: linear fit recovers drift, missing/extra pulses are caught, no overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.neural import (
    NeuralRecording,
    check_overlap,
    fit_clock,
    read_sync_table,
    to_video_clock,
)


def _pulses(rng, n=400, offset=3.2, slope=1 + 1.3e-4, jitter=2e-4):
    video = 5.0 + np.cumsum(rng.uniform(0.8, 1.2, n))
    neural = (video - offset) / slope
    return neural + rng.normal(0, jitter, n), video + rng.normal(0, jitter, n)


def _rec(n_t=600, rate=10.0):
    return NeuralRecording(
        traces=np.zeros((2, n_t)) + 1.0,
        times=np.arange(n_t) / rate,
        neuron=np.arange(2),
        plane=np.zeros(2),
        kind="dff",
        source="x",
    )


def test_fit_recovers_drift(tmp_path):
    rng = np.random.default_rng(0)
    neural, video = _pulses(rng)
    fit = fit_clock(neural, video)
    assert fit.slope == pytest.approx(1 + 1.3e-4, abs=2e-6)
    assert fit.offset == pytest.approx(3.2, abs=1e-3)
    assert 1e-4 < fit.residual_rms < 5e-4 and fit.residual_max < 2e-3
    # without the fit the drift accumulates: 400 s x 1.3e-4 = 52 ms at the end
    assert abs(fit(neural) - video).max() < 2e-3
    path = tmp_path / "sync.tsv"
    pd.DataFrame({"neural_time": neural, "video_time": video}).to_csv(path, sep="\t", index=False)
    rec, fit2 = to_video_clock(_rec(), sync=path)
    assert fit2.method == "sync" and fit2.n_pulses == 400
    np.testing.assert_allclose(rec.times, fit2.offset + fit2.slope * np.arange(600) / 10.0)


@pytest.mark.parametrize("kind", ["missing_video", "extra_neural"])
def test_missing_or_extra_pulse(tmp_path, kind):
    rng = np.random.default_rng(1)
    neural, video = _pulses(rng, n=50)
    if kind == "missing_video":
        video = np.delete(video, 20)  # the video missed pulse 20: rows shift from there
        neural = neural[:-1]
    else:
        neural = np.insert(neural, 30, neural[29] + 0.3)  # a glitch edge on the neural clock
        video = np.append(video, video[-1] + 1.0)
    path = tmp_path / "sync.csv"
    pd.DataFrame({"neural_time": neural, "video_time": video}).to_csv(path, index=False)
    row = 20 if kind == "missing_video" else 30
    with pytest.raises(InputError, match=rf"sync\.csv: pulse rows {row} -> {row + 1}.*missing"):
        read_sync_table(path)


def test_unequal_pulse_counts_and_columns(tmp_path):
    rng = np.random.default_rng(2)
    neural, video = _pulses(rng, n=20)
    df = pd.DataFrame({"neural_time": neural, "video_time": video})
    df.loc[19, "video_time"] = np.nan
    df.to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(InputError, match="20 pulses on the neural clock but 19"):
        read_sync_table(tmp_path / "a.csv")
    df.rename(columns={"video_time": "cam"}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputError, match=r"missing column\(s\) \['video_time'\]"):
        read_sync_table(tmp_path / "b.csv")


def test_rate_offset_and_overlap():
    rec, fit = to_video_clock(_rec(), offset=2.5)
    assert fit.method == "rate"
    np.testing.assert_allclose(rec.times, 2.5 + np.arange(600) / 10.0)
    rec2, fit2 = to_video_clock(_rec(), rate=20.0, offset=1.0)
    assert rec2.times[-1] == pytest.approx(1.0 + 599 / 20.0)
    same, f3 = to_video_clock(_rec())
    assert f3.method == "timestamps" and same.times[1] == pytest.approx(0.1)
    with pytest.raises(InputError, match="not both"):
        to_video_clock(_rec(), sync=(np.arange(3.0), np.arange(3.0)), offset=1.0)
    video = np.arange(0, 60, 0.05)
    assert check_overlap(rec.times, video) == pytest.approx(video[-1] - 2.5)
    with pytest.raises(InputError, match="not aligned: give a sync table"):
        check_overlap(rec.times + 500.0, video, source="rec.nwb")
