"""Tests of mouseface.report: the self-contained report.html and HOG glyphs."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mouseface.errors import InputError
from mouseface.report import build_report, hog_glyph, hog_glyph_signed
from mouseface.report._sections import table
from mouseface.report._traces import stimulus_locked
from mouseface.report.figures import spearman
from mouseface.report.prototype_figures import cross_animal, nearest_same_emotion

EMOTIONS = {"sucrose": "pleasure", "quinine": "disgust", "shock": "pain"}
ANIMALS = ["m1", "m2", "m3"]
FPS = 15.0
N_FRAMES = 360
ONSETS = (3.0, 7.0, 11.0, 15.0, 19.0)
INTENSITY = {"sucrose": [1.0, 5.0, 10.0], "shock": [0.1, 0.3, 0.5], "quinine": [np.nan]}
CELLS, ORIENT, PPC = (4, 4), 8, 32


# --------------------------------------------------------------------------- fixture helpers
def _bump(t: np.ndarray) -> np.ndarray:
    """Expression time course after an onset (0 before, peak ~1 s later)."""
    return np.where(t > 0, (t / 1.0) * np.exp(1 - t / 1.0), 0.0)


def _frames_and_trials(rng: np.random.Generator, sid: str, animal: str, k: int):
    time = np.arange(N_FRAMES) / FPS
    emos = list(EMOTIONS.values())
    strength = {e: 0.2 + 0.02 * rng.standard_normal(N_FRAMES) for e in emos}
    change = 0.05 + 0.01 * rng.standard_normal(N_FRAMES)
    trials = []
    for j, onset in enumerate(ONSETS):
        tt = list(EMOTIONS)[(k + j) % 3]
        levels = INTENSITY[tt]
        intensity = levels[rng.integers(len(levels))]
        gain = 1.0 if np.isnan(intensity) else 0.4 + intensity / max(levels)
        b = gain * _bump(time - onset)
        strength[EMOTIONS[tt]] += 0.5 * b
        change += 0.3 * b
        trials.append((j, tt, intensity, onset))
    good = np.ones(N_FRAMES, bool)
    good[rng.choice(N_FRAMES, 6, replace=False)] = False
    frames = pd.DataFrame(
        {
            "frame": np.arange(N_FRAMES),
            "time": time,
            "motion": rng.random(N_FRAMES),
            "dark": False,
            "saturated": False,
            "motion_outlier": ~good,
            "good": good,
            "change": change,
            **{f"strength_{e}": v for e, v in strength.items()},
        }
    )
    rows = []
    for j, tt, intensity, onset in trials:
        base = (time >= onset - 2) & (time < onset)
        resp = (time >= onset) & (time < onset + 2)
        row = {
            "session": sid,
            "animal": animal,
            "trial": j,
            "trial_type": tt,
            "emotion": EMOTIONS[tt],
            "intensity": intensity,
            "state": "thirsty" if k % 2 == 0 else "sated",
            "onset": onset,
            "duration": 2.0,
            "valid": not (sid == "s00" and j == 3),
            "baseline_change": change[base].mean(),
            "response_change": change[resp].mean(),
            "response": change[resp].mean() - change[base].mean(),
            **{f"strength_{e}": strength[e][resp].mean() for e in emos},
            "predicted": EMOTIONS[tt],
            **{f"p_{c}": 0.25 for c in ["neutral", *emos]},
        }
        rows.append(row)
    return frames, rows


def _prototypes(rng: np.random.Generator) -> xr.Dataset:
    n_feat = CELLS[0] * CELLS[1] * ORIENT
    classes = ["neutral", *EMOTIONS.values()]
    neutral = rng.random(n_feat) * 0.3
    protos = [neutral] + [neutral + 0.15 * rng.random(n_feat) for _ in EMOTIONS]
    P = np.stack(protos).astype(np.float32)
    AP = P[None] + 0.02 * rng.standard_normal((len(ANIMALS), *P.shape))
    AP = AP.astype(np.float32)
    AP[2, 2] = np.nan  # m3 has no disgust trials
    yy, xx = np.mgrid[0:128, 0:128]
    face = (100 + 80 * np.exp(-((yy - 64) ** 2 + (xx - 50) ** 2) / 900)).astype(np.float32)
    return xr.Dataset(
        {
            "prototype": (("emotion", "feature"), P),
            "animal_prototype": (("animal", "emotion", "feature"), AP),
            "similarity": (("emotion", "emotion2"), np.corrcoef(P)),
            "example_face": (("y", "x"), face),
        },
        coords={"emotion": classes, "emotion2": classes, "animal": ANIMALS},
        attrs={
            "orientations": ORIENT,
            "pixels_per_cell_y": PPC,
            "pixels_per_cell_x": PPC,
            "cells_y": CELLS[0],
            "cells_x": CELLS[1],
            "face_height": 128,
            "face_width": 128,
        },
    )


def _decoding(rng: np.random.Generator) -> pd.DataFrame:
    classes = ["neutral", *EMOTIONS.values()]
    rows = []
    for dec in ("prototype", "forest"):
        for level, n in (("frame", 60), ("trial", 4)):
            for fold, animal in enumerate(ANIMALS):
                cm = np.zeros((4, 4), int)
                for i in range(4):
                    p = np.full(4, 0.1)
                    p[i] = 0.7 if dec == "forest" else 0.55
                    cm[i] = rng.multinomial(n, p / p.sum())
                acc = np.trace(cm) / cm.sum()
                bal = np.mean(np.diag(cm) / cm.sum(axis=1))
                base = {"decoder": dec, "level": level, "fold": fold, "held_out": animal}
                rows += [
                    {**base, "metric": "accuracy", "value": acc},
                    {**base, "metric": "balanced_accuracy", "value": bal},
                    {**base, "metric": "n_test", "value": float(cm.sum())},
                ]
                for i, t in enumerate(classes):
                    for j, p in enumerate(classes):
                        rows.append(
                            {
                                **base,
                                "metric": "count",
                                "value": float(cm[i, j]),
                                "true": t,
                                "predicted": p,
                            }
                        )
    df = pd.DataFrame(rows)
    df["true"] = df["true"].astype(object).where(df["true"].notna(), None)
    df["predicted"] = df["predicted"].astype(object).where(df["predicted"].notna(), None)
    return df


def make_outputs(out: Path, *, seed: int = 0) -> Path:
    """Fabricate a small but complete pipeline output folder in ``out``."""
    rng = np.random.default_rng(seed)
    sessions, prov_sessions, trials = [], {}, []
    k = 0
    for animal in ANIMALS:
        for rep in range(2):
            sid = f"s{k:02d}"
            state = "thirsty" if k % 2 == 0 else "sated"
            sessions.append(
                {
                    "id": sid,
                    "animal": animal,
                    "video": f"videos/{sid}.mp4",
                    "events": f"events/{sid}.tsv",
                    "roi": [10, 20, 120, 100],
                    "state": state,
                }
            )
            frames, rows = _frames_and_trials(rng, sid, animal, k)
            (out / "sessions" / sid).mkdir(parents=True)
            frames.to_parquet(out / "sessions" / sid / "frames.parquet", index=False)
            trials += rows
            err = {"frame": 350, "message": "truncated packet"} if sid == "s05" else None
            prov_sessions[sid] = {
                "n_frames": N_FRAMES,
                "fps": FPS,
                "decode_error": err,
                "face_size": [100, 120],
                "roi": [10, 20, 120, 100],
            }
            k += 1
            del rep
    pd.DataFrame(trials).to_parquet(out / "trials.parquet", index=False)
    _prototypes(rng).to_netcdf(out / "prototypes.nc", engine="scipy")
    _decoding(rng).to_parquet(out / "decoding.parquet", index=False)
    prov = {
        "package": "mouseface",
        "version": "0.1.0",
        "created": "2026-01-02T03:04:05+00:00",
        "config": {
            "sessions": sessions,
            "emotions": EMOTIONS,
            "windows": {"baseline": [-2.0, 0.0], "response": [0.0, 2.0]},
            "hog": {
                "orientations": ORIENT,
                "pixels_per_cell": [PPC, PPC],
                "cells_per_block": [1, 1],
                "block_norm": "L2-Hys",
                "transform_sqrt": True,
                "face_width": 128,
            },
        },
        "inputs": {"videos/s00.mp4": "0" * 64},
        "sessions": prov_sessions,
        "warnings": ["session s05: video decoded only up to frame 350 (truncated packet)"],
        "timings": {"features": 12.5, "prototypes": 0.8, "decoding": 3.25},
        "decoding_note": None,
    }
    (out / "provenance.json").write_text(json.dumps(prov, indent=2))
    return out


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    return make_outputs(tmp_path / "out")


HEADINGS = (
    "Run summary",
    "Stimulus-locked expression strength",
    "Per-frame expression strength",
    "Expression prototypes",
    "Decoding emotions on held-out animals",
    "Prototype similarity",
    "Trials",
)


class _Resources(HTMLParser):
    """Every tag, with the attributes that can load something, and the text of styles."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} in a JSON block: the browser's JSON.parse rejects it")


def assert_self_contained(html: str) -> None:
    """No resource the page would load from outside itself: every src/href is a data: URI or
    an in-page anchor, no <link>, no external script, no CSS import or url()."""
    parser = _Resources()
    parser.feed(html)
    assert parser.tags, "no HTML parsed"
    for tag, attrs in parser.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        if tag == "script":
            assert "src" not in attrs, attrs
        for key in ("src", "href", "srcset", "poster", "data", "action"):
            value = attrs.get(key)
            if value is None:
                continue
            assert value.startswith(("data:", "#")), f"<{tag} {key}={value[:60]}>"
        if tag == "img" and "src" in attrs:
            assert re.fullmatch(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+", attrs["src"])
    css = "".join(parser.styles)
    assert "@import" not in css and "url(" not in css
    # the one bundled plotly.js at most, and no script tag smuggled into JSON blocks
    assert html.count('<script id="plotly-js">') <= 1
    for body in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        json.loads(body, parse_constant=_not_json)  # what the browser's JSON.parse accepts


def n_png(html: str) -> int:
    """Static (matplotlib) figures in the page."""
    return len(re.findall(r"<img\b[^>]*src=\"data:image/png", html))


FIGURES = (
    "fig-traces-locked",
    "fig-strength-frames",
    "fig-confusion",
    "fig-similarity",
    "fig-dose-response",
)


# --------------------------------------------------------------------------- report tests
def test_build_report_full(outputs: Path) -> None:
    path = build_report(outputs)
    assert path == outputs / "report.html"
    assert path.is_file()
    assert not [p for p in outputs.iterdir() if p.name.startswith(".report.html")]
    html = path.read_text(encoding="utf-8")
    assert_self_contained(html)
    # static: prototypes, differences, accuracy, clustering; interactive: the rest
    assert n_png(html) == 4
    for fid in FIGURES:
        assert f'<div id="{fid}" class="plotly-fig' in html
        assert f'<script type="application/json" id="{fid}-json">' in html
    assert html.count('<script id="plotly-js">') == 1
    for h in HEADINGS:
        assert f"{h}</h2>" in html
    # plotly.js (~4.8 MB) + the rest; the fixture's videos are absent, so no face crops
    assert path.stat().st_size < 6_500_000
    # numbers: mean accuracy of each decoder and level, printed with 3 decimals
    dec = pd.read_parquet(outputs / "decoding.parquet")
    acc = dec[dec["metric"] == "accuracy"].groupby(["decoder", "level"])["value"].mean()
    for value in acc:
        assert f"{value:.3f}" in html
    assert "truncated packet" in html  # decode error from provenance
    assert "sucrose → pleasure" in html
    assert "12.5" in html and "16.6" in html  # a timing and the total
    assert "Emotion specificity across animals" in html
    assert "rho" in html
    assert "Skipped" not in html


class _Tables(HTMLParser):
    """Collect the text of every table cell: ``tables[i][row][col]``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_report_counts_table(outputs: Path) -> None:
    html = build_report(outputs).read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(html)
    table = next(t for t in parser.tables if t and t[0][:1] == ["trial type / animal"])
    header = table[0]
    cells = {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in table[1:]}
    trials = pd.read_parquet(outputs / "trials.parquet")
    assert int(cells["total"]["total"]) == len(trials)
    n = ((trials["trial_type"] == "sucrose") & (trials["animal"] == "m1")).sum()
    assert int(cells["sucrose"]["m1"]) == int(n)


def test_report_without_decoding_or_intensity(outputs: Path) -> None:
    (outputs / "decoding.parquet").unlink()
    trials = pd.read_parquet(outputs / "trials.parquet")
    trials["intensity"] = np.nan
    trials.to_parquet(outputs / "trials.parquet", index=False)
    html = build_report(outputs, title="Lab <b>demo</b>").read_text(encoding="utf-8")
    assert_self_contained(html)
    for h in HEADINGS:
        assert f"{h}</h2>" in html
    assert "decoding.parquet not found" in html
    assert "No trial has an intensity" in html
    assert "Lab &lt;b&gt;demo&lt;/b&gt;" in html  # the title is escaped


def test_report_with_only_provenance(outputs: Path) -> None:
    for name in ("trials.parquet", "decoding.parquet", "prototypes.nc"):
        (outputs / name).unlink()
    html = build_report(outputs).read_text(encoding="utf-8")
    assert "trials.parquet not found" in html
    assert "prototypes.nc" in html and "not found" in html
    assert_self_contained(html)
    assert n_png(html) == 0
    # the per-frame strength still draws (frames.parquet is there), without trials
    assert '<div id="fig-strength-frames"' in html
    assert '<div id="fig-confusion"' not in html


def test_report_glyphs_skipped_for_large_blocks(outputs: Path) -> None:
    prov = json.loads((outputs / "provenance.json").read_text())
    prov["config"]["hog"]["cells_per_block"] = [2, 2]
    (outputs / "provenance.json").write_text(json.dumps(prov))
    html = build_report(outputs).read_text(encoding="utf-8")
    assert "Glyphs skipped" in html and "cells_per_block=[2, 2]" in html


def test_report_bad_inputs(tmp_path: Path, outputs: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no mouseface outputs"):
        build_report(tmp_path / "empty")
    (outputs / "trials.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(InputError, match=r"trials\.parquet"):
        build_report(outputs)
    assert not (outputs / "report.html").exists()


# --------------------------------------------------------------------------- helpers
def test_stimulus_locked_aligns_on_onset() -> None:
    time = np.arange(200) / 10.0
    frames = {"a": pd.DataFrame({"time": time, "v": time.copy(), "good": True})}
    trials = pd.DataFrame({"session": ["a", "a"], "onset": [5.0, 12.3]})
    tr = stimulus_locked(trials, frames, "v", span=(-2.0, 4.0), fps=10.0)
    assert tr.values.shape == (2, 61)
    np.testing.assert_allclose(tr.t[[0, -1]], [-2.0, 4.0])
    np.testing.assert_allclose(tr.values[0], 5.0 + tr.t, atol=1e-9)
    np.testing.assert_allclose(tr.values[1], 12.3 + tr.t, atol=0.051)
    assert np.all(tr.n == 2)
    assert np.isfinite(tr.sem).all()


def test_long_tables_fold() -> None:
    long, short = table(pd.DataFrame({"a": range(20)})), table(pd.DataFrame({"a": range(3)}))
    assert long["folded"] and not short["folded"]
    assert long["rows"] == 20 and "<table" in long["html"]


def test_spearman_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, 30).astype(float)  # ties
    y = x + rng.standard_normal(30)
    y[[2, 5]] = np.nan
    ok = np.isfinite(y)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x[ok], y[ok]).statistic, abs=1e-12)
    assert np.isnan(spearman(np.ones(5), np.arange(5.0)))
    assert np.isnan(spearman(np.arange(2.0), np.arange(2.0)))


def test_nearest_same_emotion() -> None:
    rng = np.random.default_rng(1)
    base = rng.random((3, 50))
    ap = base[None] + 0.01 * rng.standard_normal((2, 3, 50))
    ap[1, 2] = np.nan
    rows, r = cross_animal(ap, ["a", "b"], ["x", "y", "z"])
    assert rows == [("a", "x"), ("a", "y"), ("a", "z"), ("b", "x"), ("b", "y")]
    np.testing.assert_allclose(np.diag(r), 1.0)
    hits, n = nearest_same_emotion(rows, r)
    assert (hits, n) == (4, 5)  # a:z has no partner in b


# --------------------------------------------------------------------------- glyphs
def test_hog_glyph_shape_and_scale() -> None:
    f = np.random.default_rng(0).random(3 * 5 * 9)
    g = hog_glyph(f, cells_shape=(3, 5), orientations=9, cell_px=20)
    assert g.shape == (60, 100) and g.dtype == np.uint8
    assert g.max() == 255
    assert hog_glyph(np.zeros(135), cells_shape=(3, 5), orientations=9).max() == 0
    s = hog_glyph_signed(f - 0.5, cells_shape=(3, 5), orientations=9, cell_px=20)
    assert s.shape == (60, 100, 3) and s.dtype == np.uint8
    assert s[..., 0].max() > 0 and s[..., 2].max() > 0


def _single_bin(o: int, orientations: int = 9, value: float = 1.0) -> np.ndarray:
    f = np.zeros(orientations)
    f[o] = value
    return f


def test_hog_glyph_single_orientation_directions() -> None:
    # 9 bins: bin 4 is centred on a 90 deg (vertical) gradient -> a horizontal edge segment
    g = hog_glyph(_single_bin(4), cells_shape=(1, 1), orientations=9, cell_px=25, vmax=1.0)
    rr, cc = np.nonzero(g)
    assert np.ptp(rr) == 0 and rr[0] == 12
    assert cc.min() == 0 and cc.max() == 24
    # 4 bins: bin 0 (gradient at 22.5 deg, down-right) -> edge running up-right to down-left
    g = hog_glyph(_single_bin(0, 4), cells_shape=(1, 1), orientations=4, cell_px=41, vmax=1.0)
    rr, cc = np.nonzero(g)
    slope = np.polyfit(cc.astype(float), rr.astype(float), 1)[0]
    np.testing.assert_allclose(slope, -1 / np.tan(np.pi / 8), rtol=0.1)
    # half the value draws half the length, at half the brightness
    g = hog_glyph(_single_bin(4), cells_shape=(1, 1), orientations=9, cell_px=25, vmax=2.0)
    rr, cc = np.nonzero(g)
    assert np.ptp(cc) == 12 and g.max() == 128


def test_hog_glyph_matches_image_edges() -> None:
    skimage_feature = pytest.importorskip("skimage.feature")
    img = np.zeros((64, 64), np.uint8)
    img[:, 32:] = 200  # one vertical edge through the middle
    f = skimage_feature.hog(img, orientations=8, pixels_per_cell=(16, 16), cells_per_block=(1, 1))
    g = hog_glyph(f, cells_shape=(4, 4), orientations=8, cell_px=21)
    cells = g.reshape(4, 21, 4, 21).transpose(0, 2, 1, 3)
    rr, cc = np.nonzero(cells[1, 1])  # a cell on the edge
    assert rr.size > 0
    assert np.ptp(rr) > 3 * max(np.ptp(cc), 1)  # a (near) vertical segment
    assert cells[1, 0].max() == 0  # a flat cell draws nothing


def test_hog_glyph_bad_input() -> None:
    with pytest.raises(InputError, match="cells_y \\* cells_x \\* orientations"):
        hog_glyph(np.ones(10), cells_shape=(2, 2), orientations=8)
    with pytest.raises(InputError, match="orientations"):
        hog_glyph(np.ones(8), cells_shape=(1, 1), orientations=0)
    with pytest.raises(InputError, match="cells_shape"):
        hog_glyph(np.ones(8), cells_shape=4, orientations=8)  # type: ignore[arg-type]


def test_analysis_fragments_are_included(tmp_path):
    from mouseface.report.html import analyses_section

    assert analyses_section(tmp_path) is None
    folder = tmp_path / "analyses"
    folder.mkdir()
    (folder / "zzz.section.html").write_text("<h3>Dose</h3><p>rho = 0.91</p>")
    (folder / "summary.json").write_text('{"zzz": {"notes": ["zzz: skipped part"]}}')
    sec = analyses_section(tmp_path)
    assert sec["blocks"][0]["html"].endswith("rho = 0.91</p>")
    assert sec["notes"] == ["zzz: skipped part"]
