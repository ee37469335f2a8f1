"""Tests of mouseface.report.overlay: the overlay MP4 of one session of a run."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import zarr

from helpers import moving_square, write_video
from mouseface.errors import InputError
from mouseface.report.glyphs import hog_glyph
from mouseface.report.overlay import overlay_sessions, render_overlay
from overlay_folder import FPS, N_FRAMES, ROI, SWITCH, build_output_folder


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    return build_output_folder(tmp_path_factory.mktemp("overlay"))


@pytest.fixture(scope="module")
def rendered(out_dir: Path, tmp_path_factory):
    calls: list[tuple[int, int]] = []
    path = tmp_path_factory.mktemp("mp4") / "whole.mp4"
    res = render_overlay(out_dir, "s00", path=path, progress=lambda k, n: calls.append((k, n)))
    return res, _decode(res.path), calls


def _decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def _box(frames: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return frames[..., y : y + h, x : x + w, :].astype(np.float64)


def test_whole_session_has_every_frame_at_the_session_rate(rendered):
    res, frames, calls = rendered
    assert res.n_frames == N_FRAMES and res.first_frame == 0
    assert frames.shape == (N_FRAMES, res.height, res.width, 3)
    assert res.width % 2 == 0 and res.height % 2 == 0
    assert res.fps == pytest.approx(FPS)
    with av.open(str(res.path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    assert calls == [(k, N_FRAMES) for k in range(1, N_FRAMES + 1)]
    assert res.label_source == "predicted" and res.glyph_source == "features.zarr"
    assert not list(res.path.parent.glob(".*tmp*"))  # the atomic writer left nothing behind


def test_face_panel_is_the_roi_crop(rendered):
    res, frames, _ = rendered
    x, y, w, h = ROI
    src = moving_square(N_FRAMES, 112, 144)[:, y : y + h, x : x + w]
    import cv2

    fx, fy, fw, fh = res.layout.face_box
    for i in (0, 30):
        want = cv2.resize(src[i], (fw, fh), interpolation=cv2.INTER_LINEAR).astype(float)
        got = _box(frames[i], res.layout.face_box).mean(axis=2)
        assert np.corrcoef(want.ravel(), got.ravel())[0, 1] > 0.95
    # the square moves: the face panel differs between frames
    assert (
        np.abs(_box(frames[0], res.layout.face_box) - _box(frames[10], res.layout.face_box)).mean()
        > 2
    )


def test_glyph_panel_draws_the_stored_hog_row(out_dir: Path, rendered):
    res, frames, _ = rendered
    hog = zarr.open_group(str(out_dir / "sessions/s00/features.zarr"), mode="r")["hog"][:]
    gx, gy, gw, gh = res.layout.glyph_box
    scale = res.layout.face_box[2] / ROI[2]
    cell_px = round(32 * scale)
    for i in (3, 40):
        glyph = hog_glyph(hog[i], cells_shape=(3, 4), orientations=8, cell_px=cell_px).astype(float)
        got = frames[i, gy : gy + glyph.shape[0], gx : gx + glyph.shape[1]].mean(axis=2)
        assert glyph.std() > 0
        assert np.corrcoef(glyph.ravel(), got.ravel())[0, 1] > 0.8
    other = hog_glyph(hog[3], cells_shape=(3, 4), orientations=8, cell_px=cell_px).astype(float)
    got40 = frames[40, gy : gy + other.shape[0], gx : gx + other.shape[1]].mean(axis=2)
    assert not np.allclose(other, got40, atol=20)


def test_label_region_changes_exactly_with_the_prediction(rendered):
    res, frames, _ = rendered
    label = _box(frames, res.layout.label_box)
    same_before = np.abs(label[2] - label[SWITCH - 2]).mean()
    same_after = np.abs(label[SWITCH + 1] - label[N_FRAMES - 2]).mean()
    across = np.abs(label[SWITCH - 1] - label[SWITCH]).mean()
    assert across > 5 * max(same_before, same_after, 0.5)
    # the time box changes every frame; the traces scroll
    time = _box(frames, res.layout.time_box)
    assert np.abs(time[10] - time[11]).mean() > 0.2
    traces = _box(frames, res.layout.trace_box)
    assert np.abs(traces[10] - traces[30]).mean() > 0.2


def test_clip_selects_frames_by_time(out_dir: Path, tmp_path: Path):
    res = render_overlay(out_dir, "s00", start=0.5, end=1.0, path=tmp_path / "clip.mp4")
    assert res.first_frame == 10 and res.n_frames == 10
    assert len(_decode(res.path)) == 10


def test_falls_back_to_largest_strength_and_says_so(tmp_path: Path):
    out = build_output_folder(tmp_path, predicted=False)
    res = render_overlay(out, "s00", end=2.0)
    assert res.path == out / "sessions" / "s00" / "overlay.mp4" and res.path.is_file()
    assert res.label_source == "strength"
    frames = _decode(res.path)
    label = _box(frames, res.layout.label_box)
    across = np.abs(label[SWITCH - 1] - label[SWITCH]).mean()
    assert across > 5 * max(np.abs(label[2] - label[SWITCH - 2]).mean(), 0.5)


def test_recomputes_hog_without_a_feature_store(tmp_path: Path):
    out = build_output_folder(tmp_path)
    shutil.rmtree(out / "sessions" / "s00" / "features.zarr")
    res = render_overlay(out, "s00", end=0.5)
    assert res.glyph_source == "recomputed" and res.n_frames == 10
    frames = _decode(res.path)
    assert _box(frames, res.layout.glyph_box).max() > 100  # glyph lines drawn


def test_lists_sessions(out_dir: Path):
    assert overlay_sessions(out_dir) == ["s00"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"session": "nope"}, r"no session 'nope'; sessions there: s00"),
        ({"start": 1.0, "end": 1.0}, r"--start 1 s is not before --end 1 s"),
        ({"start": 2.0, "end": 1.0}, r"not before"),
        ({"start": -1.0}, r"--start -1 s lies outside the video; the video runs from 0\.000 s"),
        ({"start": 5.0, "end": 6.0}, r"--start 5 s lies outside the video"),
        ({"end": 9.0}, r"--end 9 s lies past the video's end.*--end <= 2\.400"),
        ({"window": 0.0}, r"window must be > 0"),
    ],
)
def test_bad_input(out_dir: Path, tmp_path: Path, kwargs: dict, match: str):
    kwargs = {"session": "s00", **kwargs}
    with pytest.raises(InputError, match=match):
        render_overlay(out_dir, path=tmp_path / "x.mp4", **kwargs)
    assert not (tmp_path / "x.mp4").exists()


def test_wrong_or_missing_video(out_dir: Path, tmp_path: Path):
    with pytest.raises(InputError, match=r"is not there; pass its new path with --video"):
        render_overlay(out_dir, "s00", video=tmp_path / "gone.mp4")
    short = write_video(tmp_path / "short.mp4", moving_square(12, 112, 144), fps=FPS)
    with pytest.raises(InputError, match=r"decodes only 12 frames .* has 48"):
        render_overlay(out_dir, "s00", video=short, path=tmp_path / "x.mp4")
    slow = write_video(tmp_path / "slow.mp4", moving_square(N_FRAMES, 112, 144), fps=FPS // 2)
    with pytest.raises(InputError, match=r"frame 1 is at 0\.100 s but frames\.parquet"):
        render_overlay(out_dir, "s00", video=slow, path=tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_missing_output_folder(tmp_path: Path):
    with pytest.raises(InputError, match="output folder not found"):
        render_overlay(tmp_path / "nothing", "s00")


def test_image_folder_video_uses_the_config_frame_rate(tmp_path: Path):
    import json

    import cv2

    out = build_output_folder(tmp_path)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(moving_square(N_FRAMES, 112, 144)):
        cv2.imwrite(str(folder / f"{i:04d}.png"), f)
    prov_path = out / "provenance.json"
    prov = json.loads(prov_path.read_text())
    prov["config"]["sessions"][0]["video"] = str(folder)
    prov_path.write_text(json.dumps(prov))
    with pytest.raises(InputError, match=r"frame 2 is at 0\.067 s"):  # 30 frames/s assumed
        render_overlay(out, "s00", end=0.5)
    prov["config"]["fps"] = FPS
    prov_path.write_text(json.dumps(prov))
    res = render_overlay(out, "s00", end=0.5)
    assert res.n_frames == 10 and len(_decode(res.path)) == 10
