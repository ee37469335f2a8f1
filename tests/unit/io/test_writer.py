"""Tests of mouseface.io.writer.write_video: streaming, atomic, read back with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.io.writer import write_video


def _gray_frames(n: int, h: int = 64, w: int = 96) -> list[np.ndarray]:
    """Smooth moving gradients (compress well, so read-back values stay close)."""
    y, x = np.mgrid[0:h, 0:w]
    return [
        (60 + 100 * (0.5 + 0.5 * np.sin(x / 12.0 + i / 3.0)) + 0.3 * y).astype(np.uint8)
        for i in range(n)
    ]


def _read(path: Path, fmt: str = "gray") -> tuple[list[np.ndarray], list[float]]:
    frames, times = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format=fmt))
            times.append(float(f.time))
    return frames, times


def test_gray_roundtrip(tmp_path: Path) -> None:
    frames = _gray_frames(25)
    out = write_video(tmp_path / "v.mp4", iter(frames), fps=20.0)
    assert out == tmp_path / "v.mp4"
    back, times = _read(out)
    assert len(back) == 25
    assert back[0].shape == (64, 96)
    err = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(back, frames, strict=True)]
    assert max(err) < 3.0
    np.testing.assert_allclose(times, np.arange(25) / 20.0, atol=1e-6)
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_rgb_roundtrip(tmp_path: Path) -> None:
    gray = _gray_frames(10)
    frames = [np.stack([g, 255 - g, np.full_like(g, 128)], axis=-1) for g in gray]
    out = write_video(tmp_path / "rgb.mkv", frames, fps=25.0, crf=10)
    back, _ = _read(out, "rgb24")
    assert len(back) == 10
    assert back[3].shape == (64, 96, 3)
    assert np.abs(back[3].astype(int) - frames[3].astype(int)).mean() < 4.0


def test_streams_a_generator_and_reports_progress(tmp_path: Path) -> None:
    consumed = []

    def gen():
        for i, f in enumerate(_gray_frames(12)):
            consumed.append(i)
            yield f

    calls: list[int] = []
    write_video(tmp_path / "g.mp4", gen(), fps=10.0, progress=calls.append, preset="ultrafast")
    assert consumed == list(range(12))
    assert calls == list(range(1, 13))


def test_replaces_existing_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    write_video(path, _gray_frames(5), fps=10.0)
    write_video(path, _gray_frames(8), fps=10.0)
    assert len(_read(path)[0]) == 8


def test_bad_frame_midway_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    write_video(path, _gray_frames(4), fps=10.0)
    frames = _gray_frames(6)
    frames[3] = frames[3][:32]
    with pytest.raises(InputError, match="frame 3"):
        write_video(path, frames, fps=10.0)
    assert len(_read(path)[0]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_odd_size_raises_or_pads(tmp_path: Path) -> None:
    frames = [f[:63, :95] for f in _gray_frames(3)]
    with pytest.raises(InputError, match="even width and height"):
        write_video(tmp_path / "odd.mp4", frames, fps=10.0)
    out = write_video(tmp_path / "odd.mp4", frames, fps=10.0, pad=True)
    back, _ = _read(out)
    assert back[0].shape == (64, 96)
    assert np.abs(back[1][:63, :95].astype(int) - frames[1].astype(int)).mean() < 3.0


@pytest.mark.parametrize(
    ("frames", "kwargs", "match"),
    [
        ([], {}, "no frames"),
        ([np.zeros((8, 8), np.float32)], {}, "uint8"),
        ([np.zeros((8, 8, 4), np.uint8)], {}, r"\(h, w\) gray"),
        ([np.zeros((8, 8), np.uint8)], {"fps": 0.0}, "fps"),
        ([np.zeros((8, 8), np.uint8)], {"codec": "nope"}, "unknown codec"),
    ],
)
def test_bad_input(tmp_path: Path, frames, kwargs, match) -> None:
    kw = {"fps": 10.0} | kwargs
    with pytest.raises(InputError, match=match):
        write_video(tmp_path / "x.mp4", frames, **kw)
    assert not (tmp_path / "x.mp4").exists()


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_video(tmp_path / "no" / "x.mp4", _gray_frames(2), fps=10.0)
