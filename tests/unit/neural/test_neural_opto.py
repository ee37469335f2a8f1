"""Laser tables (sham rows, overlaps) and the opto statistics on a constructed face trace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.neural.laser import check_laser_table, read_laser_table
from mouseface.neural.opto import OPTO_COLUMNS, epoch_strength, laser_locked, opto_table


def test_read_laser_table_sham_forms(tmp_path):
    p = tmp_path / "laser.tsv"
    p.write_text(
        "onset\tduration\tfrequency\tpower\ttarget\tsham\n"
        "30\t2\t20\t5\tBLA\tfalse\n"
        "10\t2\t20\t5\tBLA\t1\n"
        "50\t2\t20\t10\tsham\tn/a\n"
    )
    lt = read_laser_table(p)
    assert lt["onset"].tolist() == [10.0, 30.0, 50.0]  # sorted
    assert lt["sham"].tolist() == [True, False, True]
    assert lt["row"].tolist() == [3, 2, 4]  # file lines
    assert list(lt.columns) == ["epoch", "row", "onset", "duration", "frequency", "power",
                                "target", "sham"]  # fmt: skip


def test_overlapping_epochs_name_both_rows(tmp_path):
    p = tmp_path / "laser.csv"
    p.write_text("onset,duration,frequency,power,target\n10,2,20,5,a\n20,5,20,5,a\n23,2,20,5,b\n")
    with pytest.raises(InputError, match=r"laser\.csv: laser epochs overlap: line 3 .* line 4"):
        read_laser_table(p)
    bad = pd.DataFrame({"onset": [1.0], "duration": [0.0], "frequency": [20], "power": [1],
                        "target": ["a"]})  # fmt: skip
    with pytest.raises(InputError, match="line 2: duration must be > 0"):
        check_laser_table(bad, source="x.tsv")
    with pytest.raises(InputError, match=r"missing column\(s\) \['power'\]"):
        check_laser_table(bad.drop(columns="power"))


def _session(rng, *, n_per=4, powers=(2.0, 5.0, 10.0)):
    rows, t = [], 8.0
    items = [(tg, p) for tg in ("x", "y") for p in powers for _ in range(n_per)]
    items += [("sham", 10.0)] * 5
    for i in rng.permutation(len(items)):
        rows.append({"onset": t, "duration": 2.0, "frequency": 20.0, "power": items[i][1],
                     "target": items[i][0]})  # fmt: skip
        t += 12.0
    laser = check_laser_table(pd.DataFrame(rows))
    time = np.arange(0, t + 5, 0.05)
    emos = ["pleasure", "disgust", "pain"]
    evoked = {"x": "pleasure", "y": "pain"}
    s = {e: 0.05 * rng.standard_normal(len(time)) for e in emos}
    for r in laser.itertuples():
        on = (time >= r.onset) & (time < r.onset + r.duration)
        if not r.sham:
            s[evoked[r.target]][on] += 0.05 * r.power
            for e in emos:  # crosstalk: every prototype rises a little
                s[e][on] += 0.01 * r.power
    frames = pd.DataFrame({"time": time, **{f"strength_{e}": v for e, v in s.items()}})
    return frames, laser


def test_opto_table_recovers_targets_and_dose():
    rng = np.random.default_rng(0)
    frames, laser = _session(rng)
    es = epoch_strength(frames, laser)
    assert len(es) == len(laser) * 3
    assert es.loc[es["sham"], "effect"].abs().max() < 0.1
    tab = opto_table(frames, laser, session="s1", n_boot=500)
    assert list(tab.columns) == list(OPTO_COLUMNS)
    base = tab[tab["condition"] == "laser_vs_baseline"].set_index("target")
    assert base.loc["x", "evoked_emotion"] == "pleasure"
    assert base.loc["y", "evoked_emotion"] == "pain"
    assert (base["p"] < 0.05).all() and (base["ci_low"] > 0).all()
    assert (base["confidence_source"] == "bootstrap").all() and (base["confidence"] > 0.9).all()
    sham_row = tab[tab["condition"] == "sham_vs_baseline"].iloc[0]
    assert sham_row["ci_low"] < 0.05 and sham_row["p"] > 0.05
    vs_sham = tab[tab["condition"] == "laser_vs_sham"].set_index("target")
    assert vs_sham.loc["x", "evoked_emotion"] == "pleasure" and vs_sham.loc["x", "p"] < 0.05
    dose = tab[tab["condition"] == "dose_power"].set_index("target")
    assert (dose["effect"] > 0.7).all() and (dose["ci_low"] > 0).all()
    assert "dose_frequency" not in set(tab["condition"])  # frequency does not vary
    ps = laser_locked(frames, laser, n_boot=100)
    assert ps.emotions == ("sham", "x", "y") and ps.mean.shape[1] == 3


def test_decoder_confidence():
    rng = np.random.default_rng(1)
    frames, laser = _session(rng)
    for e in ("pleasure", "disgust", "pain"):
        frames[f"p_{e}"] = 0.2
    on_x = np.zeros(len(frames), bool)
    for r in laser[laser["target"] == "x"].itertuples():
        on_x |= (frames["time"] >= r.onset) & (frames["time"] < r.onset + r.duration)
    frames.loc[on_x, "p_pleasure"] = 0.8
    tab = opto_table(frames, laser, session="s1", n_boot=200)
    row = tab[(tab["target"] == "x") & (tab["condition"] == "laser_vs_baseline")].iloc[0]
    assert row["confidence_source"] == "decoder" and row["confidence"] == pytest.approx(0.8)


def test_epoch_outside_video_is_an_input_error():
    rng = np.random.default_rng(2)
    frames, laser = _session(rng)
    late = laser.copy()
    late.loc[late.index[-1], "onset"] = frames["time"].iloc[-1] + 50.0
    with pytest.raises(InputError, match=r"laser\.tsv: line \d+: the epoch at .* not inside"):
        opto_table(frames, late, session="s1", source="laser.tsv")


def test_signflip_max_p_exact_and_sham():
    from mouseface.neural.opto import label_max_p, signflip_max_p

    rng = np.random.default_rng(5)
    strong = np.column_stack(
        [0.2 + 0.02 * rng.standard_normal(6), 0.01 * rng.standard_normal((6, 5))]
    )
    # 6 epochs: 64 sign patterns, only the observed one reaches its maximum
    assert signflip_max_p(strong) == pytest.approx(1 / 64)
    many = np.column_stack(
        [0.2 + 0.05 * rng.standard_normal(12), 0.05 * rng.standard_normal((12, 2))]
    )
    assert signflip_max_p(many) < 0.001
    sham = [signflip_max_p(0.05 * rng.standard_normal((8, 6))) for _ in range(200)]
    assert np.mean(np.asarray(sham) <= 0.05) < 0.1  # ~ uniform under the null
    assert np.isnan(signflip_max_p(strong[:1]))
    laser, control = strong, 0.01 * rng.standard_normal((4, 6))
    assert label_max_p(laser, control) == pytest.approx(1 / 210)  # C(10, 4) splits
    assert label_max_p(control, control[::-1]) > 0.2
