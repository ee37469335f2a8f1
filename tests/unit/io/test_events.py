from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.io.events import check_events_in_video, events_from_signal, read_events, write_events


def _write(tmp_path, text, name="ev.tsv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_bids_tsv_with_optional_columns(tmp_path):
    p = _write(
        tmp_path,
        "onset\tduration\ttrial_type\tintensity\tstate\n"
        "5.5\t1\tsucrose\t0.5\tthirsty\n1.0\t1\tquinine\tn/a\tn/a\n",
    )
    ev = read_events(p)
    assert list(ev["onset"]) == [1.0, 5.5]  # sorted by onset
    assert list(ev["trial_type"]) == ["quinine", "sucrose"]
    assert np.isnan(ev["intensity"].iloc[0]) and ev["intensity"].iloc[1] == 0.5
    assert ev["state"].iloc[0] is None and ev["state"].iloc[1] == "thirsty"
    assert list(ev["trial"]) == [2, 1]


def test_reads_csv_and_defaults_duration(tmp_path):
    ev = read_events(_write(tmp_path, "onset,trial_type\n2,shock\n", "ev.csv"))
    assert ev["duration"].iloc[0] == 0.0 and ev["trial"].iloc[0] == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("onset\tduration\n1\t1\n", r"missing column\(s\) trial_type"),
        ("onset,duration,trial_type\n1,1,a\n", "is it tab-separated"),
        (
            "onset\tduration\ttrial_type\n1\t1\ta\nsoon\t1\tb\n",
            r"line 3: column 'onset' holds 'soon'",
        ),
        ("onset\tduration\ttrial_type\n-1\t1\ta\n", "line 2: onset -1.0 is negative"),
        ("onset\tduration\ttrial_type\n1\t1\t \n", "line 2: trial_type is empty"),
        ("onset\ttrial_type\ttrial\n1\ta\t3\n2\tb\t3\n", "line 3: trial 3 appears twice"),
        ("onset\ttrial_type\n", "no rows"),
    ],
)
def test_bad_tables_name_file_and_line(tmp_path, text, match):
    p = _write(tmp_path, text)
    with pytest.raises(InputError, match=match) as err:
        read_events(p)
    assert "ev.tsv" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="events file not found"):
        read_events(tmp_path / "x.tsv")


def test_event_after_video_end(tmp_path):
    ev = read_events(_write(tmp_path, "onset\ttrial_type\n1\ta\n12\tb\n"))
    check_events_in_video(ev, duration=20.0, path="ev.tsv")
    with pytest.raises(InputError, match=r"trial 2 has onset 12.000 s, after the end"):
        check_events_in_video(ev, duration=10.0, path="ev.tsv")


def test_write_then_read_round_trip(tmp_path):
    df = pd.DataFrame(
        {
            "onset": [1.0, 2.5],
            "duration": [0.5, 0.5],
            "trial_type": ["a", "b"],
            "intensity": [np.nan, 3.0],
            "trial": [1, 2],
        }
    )
    back = read_events(write_events(df, tmp_path / "o.tsv"))
    pd.testing.assert_series_equal(back["onset"], df["onset"])
    assert np.isnan(back["intensity"].iloc[0]) and back["intensity"].iloc[1] == 3.0


def test_events_from_signal_finds_rising_edges():
    times = np.arange(100) / 20
    sig = np.zeros(100)
    sig[60:62] = 255
    sig[80] = 255
    sig[81] = 255
    df = events_from_signal(sig, times, threshold=200, label="shock", min_gap=0.5)
    assert list(df["onset"]) == [3.0, 4.0]
    np.testing.assert_allclose(df["duration"], [0.1, 0.1])
    assert set(df["trial_type"]) == {"shock"}
    merged = events_from_signal(sig, times, threshold=200, label="s", min_gap=2.0)
    assert list(merged["onset"]) == [3.0]
