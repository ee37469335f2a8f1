from __future__ import annotations

import cv2
import numpy as np
import pytest

from helpers import moving_square, write_video
from mouseface.errors import DecodeWarning, InputError
from mouseface.io.video import VideoReader, probe_video


def test_chunks_cover_every_frame_with_timestamps(tmp_path):
    frames = moving_square(50)
    path = write_video(tmp_path / "a.mp4", frames, fps=20)
    reader = VideoReader(path, chunk_size=16)
    chunks = list(reader.chunks())
    assert [len(c.frames) for c in chunks] == [16, 16, 16, 2]
    assert [c.start for c in chunks] == [0, 16, 32, 48]
    times = np.concatenate([c.times for c in chunks])
    np.testing.assert_allclose(times, np.arange(50) / 20, atol=1e-6)
    got = np.concatenate([c.frames for c in chunks])
    assert got.dtype == np.uint8 and got.shape == (50, 64, 96)
    # luma of a near-lossless encode stays close to the source (limited range: 16..235)
    assert np.corrcoef(got[10].ravel(), frames[10].ravel().astype(float))[0, 1] > 0.95


def test_variable_frame_rate_times_come_from_container(tmp_path):
    frames = moving_square(30)
    times = list(np.cumsum(np.r_[0, np.where(np.arange(29) % 3 == 0, 0.1, 0.03)]))
    path = write_video(tmp_path / "vfr.mkv", frames, times=times, fps=30)
    got = np.concatenate([c.times for c in VideoReader(path).chunks()])
    np.testing.assert_allclose(got, np.asarray(times) - times[0], atol=2e-3)
    assert np.ptp(np.diff(got)) > 0.05  # really variable


def test_roi_crop_applied_while_reading(tmp_path):
    frames = moving_square(10)
    path = write_video(tmp_path / "a.mp4", frames)
    full = next(VideoReader(path).chunks()).frames
    crop = next(VideoReader(path, roi=(10, 5, 40, 30)).chunks()).frames
    assert crop.shape == (10, 30, 40)
    np.testing.assert_array_equal(crop, full[:, 5:35, 10:50])


def test_roi_outside_frame_names_file_and_size(tmp_path):
    path = write_video(tmp_path / "a.mp4", moving_square(5))
    with pytest.raises(InputError, match=r"a\.mp4.*outside the 96x64 frame"):
        VideoReader(path, roi=(80, 0, 40, 10))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        probe_video(tmp_path / "nope.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(InputError, match="cannot be read as a video"):
        probe_video(junk)


def test_truncated_video_warns_with_frame_and_keeps_decoded_frames(tmp_path):
    frames = moving_square(120, seed=3)
    path = write_video(tmp_path / "t.mp4", frames, fps=20, faststart=True)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.5)])
    reader = VideoReader(cut, chunk_size=32)
    with pytest.warns(DecodeWarning, match=r"cut\.mp4: decoding stopped at frame \d+"):
        n = sum(len(c.frames) for c in reader.chunks())
    assert 0 < n < 120
    assert reader.decode_error is not None and reader.decode_error["frame"] == n


def test_image_folder_reads_as_video(tmp_path):
    frames = moving_square(7)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), f)
    reader = VideoReader(tmp_path, fps=10.0, chunk_size=4)
    got = list(reader.chunks())
    np.testing.assert_array_equal(np.concatenate([c.frames for c in got]), frames)
    np.testing.assert_allclose(np.concatenate([c.times for c in got]), np.arange(7) / 10)
    assert reader.info.n_frames == 7


def test_empty_image_folder_is_input_error(tmp_path):
    with pytest.raises(InputError, match="no images"):
        probe_video(tmp_path)
