"""`mouseface overlay`: the overlay MP4 of one session from the command line, and its errors."""

from __future__ import annotations

from pathlib import Path

import av
from typer.testing import CliRunner

from mouseface.cli import app
from overlay_folder import build_output_folder

runner = CliRunner()


def test_overlay_writes_the_clip_and_says_where(tmp_path: Path):
    out = build_output_folder(tmp_path)
    target = tmp_path / "clip.mp4"
    res = runner.invoke(
        app,
        [
            "overlay",
            str(out),
            "--session",
            "s00",
            "--start",
            "0.5",
            "--end",
            "1.5",
            "-o",
            str(target),
        ],
    )
    assert res.exit_code == 0, res.output
    assert str(target) in res.stdout
    assert "20 frames" in res.stderr and "label from decoder" in res.stderr
    with av.open(str(target)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 20


def test_overlay_default_path_under_the_session(tmp_path: Path):
    out = build_output_folder(tmp_path, predicted=False)
    res = runner.invoke(app, ["overlay", str(out), "-s", "s00", "--end", "0.5"])
    assert res.exit_code == 0, res.output
    assert (out / "sessions" / "s00" / "overlay.mp4").is_file()
    assert "label from largest strength" in res.stderr


def test_overlay_bad_input_exits_2_with_the_fix(tmp_path: Path):
    out = build_output_folder(tmp_path)
    res = runner.invoke(app, ["overlay", str(out), "--session", "s99"])
    assert res.exit_code == 2
    assert "no session 's99'; sessions there: s00" in " ".join(res.stderr.split())
    res = runner.invoke(app, ["overlay", str(out), "-s", "s00", "--start", "2", "--end", "1"])
    assert res.exit_code == 2 and "not before" in res.stderr
    assert not (out / "sessions" / "s00" / "overlay.mp4").exists()


def test_overlay_help_explains_the_frame():
    res = runner.invoke(app, ["overlay", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for word in ("HOG glyphs", "predicted", "--session", "--start", "--end", "--out", "--video"):
        assert word in text
