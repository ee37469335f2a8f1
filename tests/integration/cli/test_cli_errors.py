"""Bad input: one clear message naming the file/row/frame and the fix, exit code 2, and nothing
already in the output folder lost or half-written."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import moving_square, write_video
from mouseface.cli import app

runner = CliRunner()


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_video(tmp_path / "a.mp4", moving_square(120, seed=1), fps=20)
    write_video(tmp_path / "b.mp4", moving_square(120, seed=2), fps=20)
    for name in ("a", "b"):
        (tmp_path / f"{name}.tsv").write_text(
            "onset\tduration\ttrial_type\n2.5\t1\tshock\n4.0\t1\tsucrose\n"
        )
    return tmp_path


def _config(root: Path, **over: str) -> Path:
    sessions = over.pop(
        "sessions",
        "  - {id: a, animal: m1, video: a.mp4, events: a.tsv}\n"
        "  - {id: b, animal: m2, video: b.mp4, events: b.tsv}\n",
    )
    extra = over.pop("extra", "")
    text = (
        "sessions:\n" + sessions + "emotions: {shock: pain, sucrose: pleasure}\n"
        "hog: {face_width: 96, pixels_per_cell: [16, 16]}\n" + extra
    )
    p = root / "mouseface.yaml"
    p.write_text(text)
    return p


@pytest.fixture
def finished(project: Path) -> tuple[Path, dict[str, str]]:
    out = project / "out"
    res = runner.invoke(app, ["run", str(_config(project)), "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    return out, _snapshot(out)


CASES = {
    "missing video": (
        dict(sessions="  - {id: a, animal: m1, video: nope.mp4, events: a.tsv}\n"),
        r"nope\.mp4: no such file",
    ),
    "unmapped trial type": (
        dict(extra="", sessions="  - {id: a, animal: m1, video: a.mp4, events: c.tsv}\n"),
        r"c\.tsv: trial_type 'puff' has no emotion",
    ),
    "roi outside frame": (
        dict(
            sessions="  - {id: a, animal: m1, video: a.mp4, events: a.tsv, roi: [50, 10, 80, 40]}\n"
        ),
        r"does not fit inside the 96x64 .*a\.mp4",
    ),
    "event after end": (
        dict(sessions="  - {id: a, animal: m1, video: a.mp4, events: late.tsv}\n"),
        r"late\.tsv: trial 1 has onset 60.000 s, after the end of the video",
    ),
    "window without frames": (
        dict(sessions="  - {id: a, animal: m1, video: a.mp4, events: early.tsv}\n"),
        r"early\.tsv: trial 1 \(onset 0.000 s\): the baseline window",
    ),
    "unknown key": (
        dict(extra="windws: {baseline: [-1, 0]}\n"),
        r"unknown key 'windws' \(did you mean 'windows'\?\)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exit_2_and_output_kept(finished, project: Path, case: str):
    out, before = finished
    (project / "c.tsv").write_text("onset\tduration\ttrial_type\n2\t1\tpuff\n")
    (project / "late.tsv").write_text("onset\tduration\ttrial_type\n60\t1\tshock\n")
    (project / "early.tsv").write_text("onset\tduration\ttrial_type\n0\t1\tshock\n")
    over, pattern = CASES[case]
    res = runner.invoke(app, ["run", str(_config(project, **over)), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "error:" in res.output
    assert re.search(pattern, " ".join(res.output.split())), res.output
    assert _snapshot(out) == before


def test_truncated_video_is_processed_and_marked(project: Path):
    data = write_video(
        project / "long.mp4", moving_square(200, seed=4), fps=20, faststart=True
    ).read_bytes()
    (project / "a.mp4").write_bytes(data[: int(len(data) * 0.6)])
    out = project / "out2"
    res = runner.invoke(app, ["run", str(_config(project)), "--out", str(out), "--no-report"])
    assert res.exit_code == 1, res.output  # a partial run: the session is used up to the break
    assert "decoding stopped at frame" in " ".join(res.output.split())
    assert "partial run: 1 session(s) failed" in " ".join(res.output.split())
    prov = json.loads((out / "provenance.json").read_text())
    err = prov["sessions"]["a"]["decode_error"]
    assert err is not None and 0 < err["frame"] < 200
    assert prov["sessions"]["a"]["n_frames"] == err["frame"]
    assert any("decoding stopped" in w for w in prov["warnings"])
    assert [(f["session"], f["kind"], f["frame"], f["kept"]) for f in prov["failures"]] == [
        ("a", "decode", err["frame"], True)
    ]


def test_resume_reuses_finished_sessions(finished, project: Path):
    out, before = finished
    res = runner.invoke(
        app, ["run", str(_config(project)), "--out", str(out), "--no-report", "--resume"]
    )
    assert res.exit_code == 0, res.output
    prov = json.loads((out / "provenance.json").read_text())
    assert all(s["resumed_features"] for s in prov["sessions"].values())
    after = _snapshot(out)
    zarr_files = [k for k in before if "features.zarr" in k]
    assert zarr_files and all(after[k] == before[k] for k in zarr_files)


def test_score_names_a_folder_that_is_not_a_run(tmp_path: Path):
    res = runner.invoke(app, ["score", str(tmp_path)])
    assert res.exit_code == 2
    assert "no trials.parquet" in res.output and "mouseface run" in res.output
