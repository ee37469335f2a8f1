"""Tests of the interactive parts of report.html: plotly figure JSON, face crops on hover,
filter controls, the sortable trials table, and how the page degrades when parts are missing."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from mouseface.report import build_report
from mouseface.report.crops import crop_frames, face_crops, thumbnail_size
from mouseface.report.plots import json_for_script
from unit.report.test_report import N_FRAMES, assert_self_contained, make_outputs, n_png

ROI = (10, 20, 120, 100)  # x, y, w, h as in the fixture's provenance
SIZE = (160, 140)  # frame width, height


def _level(frame: int) -> int:
    """Gray level the synthetic video gives frame ``frame`` inside the ROI."""
    return 20 + (frame * 7) % 200


def write_image_video(folder: Path, n: int = N_FRAMES) -> Path:
    """A folder of PNG frames: uniform ``_level(i)`` inside the ROI, black outside."""
    folder.mkdir(parents=True)
    x, y, w, h = ROI
    for i in range(n):
        img = np.zeros((SIZE[1], SIZE[0]), np.uint8)
        img[y : y + h, x : x + w] = _level(i)
        cv2.imwrite(str(folder / f"f{i:05d}.png"), img)
    return folder


def _json(html: str, block_id: str):
    m = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', html, re.S)
    assert m, block_id
    return json.loads(m.group(1))


@pytest.fixture
def outputs_with_video(tmp_path: Path) -> Path:
    out = make_outputs(tmp_path / "out")
    video = write_image_video(tmp_path / "videos" / "s00")
    prov = json.loads((out / "provenance.json").read_text())
    prov["config"]["sessions"][0]["video"] = str(video)
    prov["config"]["fps"] = 15.0
    (out / "provenance.json").write_text(json.dumps(prov))
    return out


def test_strength_figure_has_every_session_and_emotion(outputs_with_video: Path) -> None:
    html = build_report(outputs_with_video).read_text(encoding="utf-8")
    assert_self_contained(html)
    fig = _json(html, "fig-strength-frames-json")
    trials = pd.read_parquet(outputs_with_video / "trials.parquet")
    emotions = ["pleasure", "disgust", "pain"]
    sessions = sorted(trials["session"].unique())
    keys = sorted((t["meta"]["session"], t["meta"]["emotion"]) for t in fig["data"])
    assert keys == sorted((s, e) for s in sessions for e in emotions)
    first = [t for t in fig["data"] if t["visible"] is True]
    assert {t["meta"]["session"] for t in first} == {"s00"}
    frames = pd.read_parquet(outputs_with_video / "sessions" / "s01" / "frames.parquet")
    t01 = next(
        t for t in fig["data"] if t["meta"]["session"] == "s01" and t["meta"]["emotion"] == "pain"
    )
    assert t01["meta"]["animal"] == "m1" and t01["meta"]["state"] == "sated"
    # N_FRAMES (360) < 1500 points: one bin per frame, good frames only
    good = frames["good"].to_numpy()
    np.testing.assert_allclose(
        np.array(t01["y"], dtype=float)[good],
        frames["strength_pain"].to_numpy()[good],
        atol=6e-4,
    )
    assert all(v is None for v in np.array(t01["y"], dtype=object)[~good])
    assert t01["customdata"] == frames["frame"].tolist()
    # stimuli shaded: one period per trial of the session, coloured by its emotion
    stim = fig["layout"]["meta"]["stimuli"]
    assert len(stim["s01"]) == int((trials["session"] == "s01").sum())
    onsets = trials.loc[trials["session"] == "s01", "onset"].tolist()
    assert [row[0] for row in stim["s01"]] == pytest.approx(onsets)
    assert len(fig["layout"]["shapes"]) == len(stim["s00"])


def test_face_crops_come_from_the_hovered_frames(outputs_with_video: Path) -> None:
    html = build_report(outputs_with_video).read_text(encoding="utf-8")
    crops = _json(html, "crops-data")
    assert list(crops) == ["s00"]  # the other sessions' videos do not exist
    c = crops["s00"]
    assert len(c["frames"]) == len(c["jpeg"]) == min(300, N_FRAMES)
    assert c["frames"] == sorted(c["frames"]) and c["frames"][0] == 0
    assert c["frames"][-1] == N_FRAMES - 1
    assert tuple(c["size"]) == thumbnail_size(ROI[2:], box=(48, 40)) == (48, 40)
    for f, b64 in list(zip(c["frames"], c["jpeg"], strict=True))[::37]:
        img = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_GRAYSCALE)
        assert img.shape == (40, 48)
        # the ROI of that very frame (outside it the video is black)
        assert abs(float(img.mean()) - _level(f)) < 3, f
    assert "videos/s01.mp4 not found" in html
    assert "300 face crops in this page, at most 300 per session" in html


def test_crop_budget_and_spacing(tmp_path: Path) -> None:
    video = write_image_video(tmp_path / "v", n=40)
    fc = face_crops(video, np.arange(40), roi=ROI, max_crops=5, box=(30, 30))
    assert fc.frames.tolist() == [0, 10, 20, 29, 39]
    assert fc.size == (30, 25)  # the ROI's 6:5 aspect kept inside the box
    assert crop_frames(np.arange(1000), max_crops=300).size == 300
    assert crop_frames([5, 5, 3], max_crops=10).tolist() == [3, 5]
    assert crop_frames(np.arange(10), max_crops=0).size == 0


def test_filter_controls_and_trials_table(outputs_with_video: Path) -> None:
    html = build_report(outputs_with_video).read_text(encoding="utf-8")
    trials = pd.read_parquet(outputs_with_video / "trials.parquet")
    for key, values in (
        ("animal", ["m1", "m2", "m3"]),
        ("emotion", ["pleasure", "disgust", "pain"]),
        ("state", ["sated", "thirsty"]),
    ):
        m = re.search(rf'<select id="filter-{key}">(.*?)</select>', html, re.S)
        assert m, key
        opts = re.findall(r'<option value="([^"]*)"', m.group(1))
        assert opts[0] == "" and sorted(opts[1:]) == sorted(values)
    for cid in ("filters", "filter-reset", "session-select", "hover-crop", "hover-crop-img"):
        assert f'id="{cid}"' in html, cid
    # every trace a filter acts on says which animal / state / emotion it belongs to
    dose = _json(html, "fig-dose-response-json")
    assert dose["data"] and all({"animal", "emotion"} <= set(t["meta"]) for t in dose["data"])
    n_points = sum(len(t["x"]) for t in dose["data"] if t["mode"] == "markers")
    valid = trials[trials["valid"] & trials["intensity"].notna()]
    assert n_points == len(valid[valid["trial_type"].isin(["sucrose", "shock"])])
    table = re.search(r'<table class="tbl sortable" id="trials-table">(.*?)</table>', html, re.S)
    assert table
    rows = re.findall(
        r"<tr data-animal=\"([^\"]*)\" data-emotion=\"([^\"]*)\" "
        r"data-state=\"([^\"]*)\">",
        table.group(1),
    )
    assert len(rows) == len(trials)
    assert rows[0] == tuple(trials.loc[0, ["animal", "emotion", "state"]].astype(str))
    assert 'id="trials-count"' in html


def test_locked_data_matches_the_drawn_means(outputs_with_video: Path) -> None:
    html = build_report(outputs_with_video).read_text(encoding="utf-8")
    data = _json(html, "locked-data")
    fig = _json(html, "fig-traces-locked-json")
    trials = pd.read_parquet(outputs_with_video / "trials.parquet")
    assert len(data["trials"]) == int(trials["valid"].sum())
    assert len(data["strength"]) == len(data["change"]) == len(data["trials"])
    for tr in fig["data"]:
        meta = tr["meta"]
        if meta["role"] != "mean":
            continue
        rows = [
            r
            for r, t in zip(data[meta["column"]], data["trials"], strict=True)
            if t["emotion"] == meta["panel"]
        ]
        v = np.array(rows, dtype=float)
        # what the page's script recomputes for "all" equals what Python drew
        np.testing.assert_allclose(np.nanmean(v, axis=0), np.array(tr["y"], float), atol=2e-4)


def test_report_degrades_without_parts(outputs_with_video: Path) -> None:
    out = outputs_with_video
    (out / "decoding.parquet").unlink()
    for sid in ("s01", "s02", "s03", "s04", "s05"):
        for f in (out / "sessions" / sid).iterdir():
            f.unlink()
        (out / "sessions" / sid).rmdir()
    trials = pd.read_parquet(out / "trials.parquet")
    trials[trials["session"] == "s00"].to_parquet(out / "trials.parquet", index=False)
    html = build_report(out).read_text(encoding="utf-8")  # one session, no decoding, no analyses
    assert_self_contained(html)
    assert '<div id="fig-confusion"' not in html and "decoding.parquet not found" in html
    assert 'id="analyses"' not in html
    fig = _json(html, "fig-strength-frames-json")
    assert {t["meta"]["session"] for t in fig["data"]} == {"s00"}
    assert html.count('<script id="plotly-js">') == 1
    # nothing interactive left: no plotly.js at all, the page still builds
    for f in (out / "sessions" / "s00").iterdir():
        f.unlink()
    for name in ("trials.parquet", "prototypes.nc"):
        (out / name).unlink()
    html = build_report(out).read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "plotly-js" not in html and n_png(html) == 0
    assert "Per-frame expression strength</h2>" in html and "Skipped" in html


def test_report_without_video_has_no_crops(tmp_path: Path) -> None:
    out = make_outputs(tmp_path / "out")
    html = build_report(out).read_text(encoding="utf-8")
    assert _json(html, "crops-data") == {}
    assert "0 face crops in this page" in html


def test_json_blocks_cannot_close_their_script() -> None:
    text = json_for_script({"name": "</script><script>alert(1)</script>", "x": [1, None]})
    assert "</" not in text and "<" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"


#: Element ids a browser test can rely on (sections, figures, controls, data blocks, tables).
STABLE_IDS = (
    "toc",
    "filters",
    "filter-animal",
    "filter-emotion",
    "filter-state",
    "filter-reset",
    "warnings",
    "summary",
    "summary-config",
    "summary-sessions",
    "summary-timings",
    "traces",
    "fig-traces-locked",
    "locked-data",
    "traces-summary",
    "frames",
    "session-controls",
    "session-select",
    "hover-crop",
    "hover-crop-img",
    "hover-crop-caption",
    "fig-strength-frames",
    "crops-data",
    "prototypes",
    "img-prototypes",
    "img-prototype-differences",
    "decoding",
    "decoding-scores",
    "img-decoding-accuracy",
    "fig-confusion",
    "similarity",
    "fig-similarity",
    "img-cross-animal",
    "similarity-specificity",
    "trials",
    "fig-dose-response",
    "trials-counts",
    "trials-by-state",
    "trials-table",
    "trials-count",
    "plot-config",
    "report-js",
    "plotly-js",
)


def test_every_section_and_control_has_a_stable_unique_id(outputs_with_video: Path) -> None:
    html = build_report(outputs_with_video).read_text(encoding="utf-8")
    page = re.sub(r'(<script id="plotly-js">).*?(</script>)', r"\1\2", html, flags=re.S)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(STABLE_IDS) <= set(ids), sorted(set(STABLE_IDS) - set(ids))
    for sec in re.findall(r"<section id=\"([^\"]+)\">", page):
        assert f'href="#{sec}"' in page  # every section is in the table of contents


def test_no_filters_without_anything_to_filter(outputs_with_video: Path) -> None:
    out = outputs_with_video
    for name in ("trials.parquet", "decoding.parquet", "prototypes.nc"):
        (out / name).unlink()
    html = build_report(out).read_text(encoding="utf-8")
    assert 'id="filter-animal"' in html  # the per-frame strength can still be filtered
    assert 'id="filter-state"' in html and 'id="filter-emotion"' in html
    for sid in ("s00", "s01", "s02", "s03", "s04", "s05"):
        for f in (out / "sessions" / sid).iterdir():
            f.unlink()
    html = build_report(out).read_text(encoding="utf-8")
    assert 'id="filters"' not in html and "plotly-js" not in html


def test_roi_falls_back_to_the_feature_store(outputs_with_video: Path) -> None:
    zarr = pytest.importorskip("zarr")
    out = outputs_with_video
    prov = json.loads((out / "provenance.json").read_text())
    prov["sessions"]["s00"]["roi"] = None
    (out / "provenance.json").write_text(json.dumps(prov))
    group = zarr.open_group(str(out / "sessions" / "s00" / "features.zarr"), mode="w")
    group.attrs["roi"] = list(ROI)
    html = build_report(out).read_text(encoding="utf-8")
    c = _json(html, "crops-data")["s00"]
    f, b64 = c["frames"][5], c["jpeg"][5]
    img = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert abs(float(img.mean()) - _level(f)) < 3  # the ROI, not the whole (black-edged) frame


def test_session_strength_bins_good_frames() -> None:
    from mouseface.report.plots import session_strength_plot

    n = 1000
    rng = np.random.default_rng(2)
    v = rng.random(n)
    good = rng.random(n) > 0.2
    good[:4] = False  # a bin with no good frame is a gap
    df = pd.DataFrame(
        {"frame": np.arange(n) + 7, "time": np.arange(n) / 10, "strength_joy": v, "good": good}
    )
    trials = pd.DataFrame(
        {"session": ["a"], "onset": [12.0], "duration": [np.nan], "emotion": ["joy"]}
    )
    fig = session_strength_plot(
        {"a": df}, trials, emotions=["joy"], sessions={}, colours={}, max_points=250
    )
    tr = fig.data[0]
    assert len(tr.y) == 250  # bins of 4 frames
    want = [v[i : i + 4][good[i : i + 4]].mean() for i in range(4, n, 4)]
    got = np.array([np.nan if y is None else y for y in tr.y], float)
    assert np.isnan(got[0])
    np.testing.assert_allclose(got[1:], np.round(want, 3), atol=1e-9)
    assert list(tr.customdata[:2]) == [7 + 2, 7 + 6]  # the middle frame of each bin
    assert fig.layout.meta["stimuli"] == {"a": [[12.0, 13.0, "joy"]]}  # 1 s when unknown
