"""Unit tests of mouseface.face.roi: parsing, checking, proposing and drawing face boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mouseface.errors import InputError
from mouseface.face import check_roi, parse_roi, propose_roi, save_roi_png


# --------------------------------------------------------------------------- parse_roi
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10,20,30,40", (10, 20, 30, 40)),
        (" 10 , 20,30 ,40 ", (10, 20, 30, 40)),
        ([0, 0, 8, 8], (0, 0, 8, 8)),
        ((5, 6, 70, 80), (5, 6, 70, 80)),
        (np.array([1, 2, 30, 40], dtype=np.int64), (1, 2, 30, 40)),
        (None, None),
        ("auto", "auto"),
        (" AUTO ", "auto"),
    ],
)
def test_parse_roi_valid(text, expected):
    assert parse_roi(text) == expected


def test_parse_roi_returns_python_ints():
    roi = parse_roi(np.array([1, 2, 30, 40], dtype=np.int32))
    assert all(type(v) is int for v in roi)


@pytest.mark.parametrize(
    "text",
    [
        "10,20,30",
        "a,b,c,d",
        "1.5,2,30,40",
        "10,20,30,40,50",
        "",
        "-1,0,10,10",
        "0,0,4,40",
        [1, 2, 3],
        [1.0, 2, 30, 40],
        [True, 2, 30, 40],
        5,
        b"1,2,30,40",
    ],
)
def test_parse_roi_invalid_raises_with_value_and_form(text):
    with pytest.raises(InputError) as err:
        parse_roi(text)
    msg = str(err.value)
    assert "x,y,w,h" in msg
    assert repr(text) in msg or str(text) in msg


# --------------------------------------------------------------------------- check_roi
def test_check_roi_accepts_box_inside_frame():
    assert check_roi((10, 20, 100, 50), (480, 640)) == (10, 20, 100, 50)
    assert check_roi("0,0,640,480", (480, 640, 3)) == (0, 0, 640, 480)


def test_check_roi_none_is_whole_frame():
    assert check_roi(None, (324, 662)) == (0, 0, 662, 324)


def test_check_roi_outside_frame_names_source_roi_frame_and_fix():
    with pytest.raises(InputError) as err:
        check_roi((600, 10, 100, 50), (480, 640), source="videos/m1.mp4")
    msg = str(err.value)
    assert "videos/m1.mp4" in msg
    assert "x=600" in msg and "w=100" in msg
    assert "640x480" in msg
    assert "x + w <= 640" in msg


def test_check_roi_too_tall():
    with pytest.raises(InputError, match="y \\+ h <= 100"):
        check_roi((0, 50, 20, 60), (100, 100))


def test_check_roi_auto_must_be_resolved():
    with pytest.raises(InputError, match="propose_roi"):
        check_roi("auto", (100, 100), source="a.mp4")


def test_check_roi_bad_frame_shape():
    with pytest.raises(InputError, match="frame shape"):
        check_roi((0, 0, 8, 8), (100,))


# ------------------------------------------------------------------------- propose_roi
def _moving_face_video(n=40, shape=(120, 160), box=(60, 30, 70, 50), seed=0):
    """Still, smooth background with a textured blob whose texture changes every frame."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    background = (60 + 40 * xx / w + 20 * yy / h).astype(np.float32)
    x, y, bw, bh = box
    inside = ((xx - (x + bw / 2)) / (bw / 2)) ** 2 + ((yy - (y + bh / 2)) / (bh / 2)) ** 2 <= 1
    frames = []
    for _ in range(n):
        tex = cv2.GaussianBlur(rng.normal(0, 40, shape).astype(np.float32), (0, 0), 1.0)
        frames.append(np.clip(np.where(inside, 150 + tex, background), 0, 255))
    return np.stack(frames).astype(np.uint8)


def _inside(inner, outer):
    xi, yi, wi, hi = inner
    xo, yo, wo, ho = outer
    return xo <= xi and yo <= yi and xi + wi <= xo + wo and yi + hi <= yo + ho


def test_propose_roi_finds_moving_face():
    box = (60, 30, 70, 50)
    frames = _moving_face_video(box=box)
    roi = propose_roi(frames)
    x, y, w, h = roi
    assert w % 2 == 0 and h % 2 == 0
    assert x >= 0 and y >= 0 and x + w <= 160 and y + h <= 120
    core = (70, 36, 50, 38)  # the blob minus its thin elliptic rim
    assert _inside(core, roi)
    assert w * h < 0.6 * 160 * 120  # not the whole frame
    assert x > 30 and y > 8  # the still background left of and above the face is excluded


def test_propose_roi_margin_grows_box():
    frames = _moving_face_video()
    x0, y0, w0, h0 = propose_roi(frames, margin=0.0)
    x1, y1, w1, h1 = propose_roi(frames, margin=0.3)
    assert w1 > w0 and h1 > h0
    assert _inside((x0, y0, w0, h0), (x1, y1, w1, h1))


def test_propose_roi_single_frame_uses_texture():
    frame = np.full((100, 140), 90, np.uint8)
    rng = np.random.default_rng(1)
    frame[20:60, 70:120] = rng.integers(0, 255, (40, 50), dtype=np.uint8)
    x, y, w, h = propose_roi(frame[None])
    assert _inside((75, 25, 40, 30), (x, y, w, h))
    assert w * h < 0.5 * 100 * 140


def test_propose_roi_uniform_frames_raise():
    with pytest.raises(InputError, match="no face"):
        propose_roi(np.full((5, 64, 64), 128, np.uint8))


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((64, 64), np.uint8),
        np.zeros((3, 64, 64, 3), np.uint8),
        np.zeros((0, 64, 64), np.uint8),
        np.zeros((3, 64, 64), np.float32),
        np.zeros((3, 4, 64), np.uint8),
    ],
)
def test_propose_roi_bad_frames_raise(frames):
    with pytest.raises(InputError):
        propose_roi(frames)


def test_propose_roi_bad_margin_raises():
    with pytest.raises(InputError, match="margin"):
        propose_roi(_moving_face_video(n=3), margin=1.5)


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(8, 60),
    w=st.integers(8, 60),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    margin=st.floats(0.0, 1.0),
)
def test_propose_roi_box_always_inside_frame_and_even(h, w, n, seed, margin):
    frames = np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)
    x, y, bw, bh = propose_roi(frames, margin=margin)
    assert x >= 0 and y >= 0 and x + bw <= w and y + bh <= h
    assert bw >= min(8, w) and bh >= min(8, h)
    assert bw % 2 == 0 or bw == w  # even unless the frame itself is odd and fully used
    assert bh % 2 == 0 or bh == h


# ------------------------------------------------------------------------ save_roi_png
def test_save_roi_png_draws_box(tmp_path: Path):
    frame = np.full((90, 120), 100, np.uint8)
    out = tmp_path / "roi.png"
    save_roi_png(out, frame, (20, 10, 60, 40))
    img = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert img.shape == (90, 120, 3)
    red = (img[..., 2] > 200) & (img[..., 1] < 80) & (img[..., 0] < 80)
    assert red[30, 20] and red[30, 79] and red[10, 50] and red[49, 50]  # the four edges
    assert not red[30, 50]  # inside untouched
    assert [p.name for p in tmp_path.iterdir()] == ["roi.png"]  # no temp file left


def test_save_roi_png_rgb_frame(tmp_path: Path):
    frame = np.zeros((40, 50, 3), np.uint8)
    frame[..., 1] = 200  # green in RGB
    save_roi_png(tmp_path / "c.png", frame, (0, 0, 50, 40))
    img = cv2.imread(str(tmp_path / "c.png"))
    assert img[20, 25, 1] == 200 and img[20, 25, 2] == 0


def test_save_roi_png_errors(tmp_path: Path):
    frame = np.zeros((40, 50), np.uint8)
    with pytest.raises(InputError, match="does not exist"):
        save_roi_png(tmp_path / "missing" / "roi.png", frame, (0, 0, 10, 10))
    with pytest.raises(InputError, match="does not fit"):
        save_roi_png(tmp_path / "roi.png", frame, (45, 0, 10, 10))
    with pytest.raises(InputError, match="uint8"):
        save_roi_png(tmp_path / "roi.png", frame.astype(float), (0, 0, 10, 10))
    assert not any(tmp_path.iterdir())
