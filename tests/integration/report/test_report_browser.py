"""report.html in a real browser: headless Chromium (Debian's ``chromium``) driven by playwright.

The report of a small real run (2 synthetic animals, the ``valence`` analysis so that the
analyses section exists) is opened from its file:// URL with the network cut off; the test fails
on any console error, uncaught page error, failed or outside request, missing or hidden section
or image that does not decode, and saves a full-page screenshot under the test's tmp folder.

Skipped when playwright or chromium is missing, except under ``MOUSEFACE_REQUIRE_BROWSER=1``
(CI), where that is a failure. ``MOUSEFACE_CHROMIUM`` names another chromium binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Section ids report.html has for a run with analyses (report/html.py ``render_report``).
SECTIONS = [
    "summary",
    "traces",
    "frames",
    "prototypes",
    "decoding",
    "similarity",
    "trials",
    "analyses",
]


def _chromium() -> str:
    """Path of the chromium binary, or skip (fail under MOUSEFACE_REQUIRE_BROWSER=1)."""
    why = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        why = "playwright is not installed (pip install -e '.[test]')"
    exe = os.environ.get("MOUSEFACE_CHROMIUM")
    if exe and not Path(exe).exists():
        why = why or f"MOUSEFACE_CHROMIUM={exe} does not exist"
    exe = exe or shutil.which("chromium") or shutil.which("chromium-browser")
    if why is None and exe is None:
        why = "chromium is not installed (apt-get install -y chromium, or set MOUSEFACE_CHROMIUM)"
    if why is not None:
        if os.environ.get("MOUSEFACE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{why}, but MOUSEFACE_REQUIRE_BROWSER=1")
        pytest.skip(why)
    return str(exe)


@dataclass
class Visit:
    """What happened while a page loaded: every problem the browser reported."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    bad_requests: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + self.bad_requests


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True)
        yield b
        b.close()


def _open(browser, html: Path) -> tuple[object, Visit]:  # noqa: ANN001
    """Open ``html`` offline in a new page; return the page and what went wrong."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    visit = Visit()
    page.on(
        "console",
        lambda m: (
            visit.console_errors.append(f"console.{m.type}: {m.text}")
            if m.type in ("error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda e: visit.page_errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: visit.bad_requests.append(f"request failed: {r.url}"))

    def route(r) -> None:  # noqa: ANN001
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:  # the report must open offline: no request may leave the file
            visit.bad_requests.append(f"network request: {url}")
            r.abort()

    page.route("**/*", route)
    page.goto(html.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let scripts that run after load report their errors
    return page, visit


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    """report.html of a small real run: 2 synthetic animals, one session each, 128-px faces."""
    from mouseface.analyses import run_analyses
    from mouseface.io.config import load_config
    from mouseface.pipeline import run_project
    from mouseface.report import build_report
    from mouseface.synth import generate_dataset

    root = tmp_path_factory.mktemp("browser")
    config = generate_dataset(
        root / "data",
        n_animals=2,
        trials_per_stimulus=1,
        states=(),
        size=(96, 128),
        licl_tail=10.0,
        fps=10.0,
        faces="cartoon",
    )
    cfg = load_config(config)
    cfg = cfg.model_copy(update={"hog": cfg.hog.model_copy(update={"face_width": 128})})
    out = root / "out"
    run_project(cfg, out, analyses=False, report=False)
    run_analyses(out, names=["valence"])
    return build_report(out)


def test_report_opens_without_errors_and_shows_every_section(browser, report_html, tmp_path):
    page, visit = _open(browser, report_html)
    assert visit.problems == []
    assert page.title().startswith("mouseface report")
    ids = page.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
    assert ids == SECTIONS
    for sid in SECTIONS:
        sec = page.locator(f"section#{sid}")
        assert sec.is_visible(), sid
        assert sec.locator(":scope > h2").is_visible(), sid
        box = sec.bounding_box()
        assert box is not None and box["height"] > 40, sid
        # every section shows something: a figure (image or drawn plotly chart), a table or an
        # analysis fragment
        shown = "figure img, table, .analysis, .js-plotly-plot .main-svg"
        assert sec.locator(shown).count() > 0, sid
    nav = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
    assert nav == [f"#{s}" for s in SECTIONS]
    broken = page.eval_on_selector_all(
        "img",  # the hover crop has no src until a trace is hovered
        "els => els.filter(e => e.getAttribute('src') && !(e.complete && e.naturalWidth > 0))"
        ".map(e => e.alt)",
    )
    assert page.locator("img").count() >= 5 and broken == []
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("MOUSEFACE_SCREENSHOT"):  # by hand: refresh docs/report_screenshot.png
        page.screenshot(path=os.environ["MOUSEFACE_SCREENSHOT"], full_page=False)
    page.close()


def test_harness_catches_what_it_should(browser, tmp_path: Path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        "<section id='summary'>ok</section>"
        "<script>console.error('boom'); fetch('https://example.org/x');"
        "setTimeout(() => { throw new Error('late'); }, 10);</script></body></html>"
    )
    page, visit = _open(browser, bad)
    page.close()
    assert any("boom" in m for m in visit.console_errors)
    assert any("late" in m for m in visit.page_errors)
    assert any("example.org" in m for m in visit.bad_requests)
