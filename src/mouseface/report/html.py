"""Assemble ``report.html``: one self-contained page (inline CSS and scripts, plotly.js embedded
once, interactive figures as JSON, HOG glyphs as base64 PNG)."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

import mouseface
from mouseface.io.outputs import write_text_atomic
from mouseface.report import figures as fg
from mouseface.report import plots as pl
from mouseface.report._decoding import decoding_section
from mouseface.report._frames_section import frames_section, session_info
from mouseface.report._load import Outputs, load_outputs
from mouseface.report._sections import (
    Section,
    class_order,
    prototypes_section,
    section,
    similarity_section,
    table,
    traces_section,
    trials_section,
    windows_of,
)
from mouseface.report.neural_sections import neurons_section, opto_section

__all__ = ["build_report", "render_report"]


def _fmt(v: Any) -> str:
    if isinstance(v, list | tuple):
        return " x ".join(str(x) for x in v)
    return "–" if v is None else str(v)


def _summary(out: Outputs) -> pd.DataFrame:
    cfg = out.config
    prov_sessions = (out.provenance or {}).get("sessions") or {}
    sessions = cfg.get("sessions") or []
    animals = sorted({str(s.get("animal")) for s in sessions if isinstance(s, dict)})
    if not animals and out.trials is not None and "animal" in out.trials:
        animals = sorted(out.trials["animal"].astype(str).unique())
    rows: list[tuple[str, str]] = [("output folder", str(out.out_dir.resolve()))]
    n_sess = len(sessions) or len(prov_sessions) or len(out.frames)
    rows.append(("sessions", str(n_sess)))
    rows.append(("animals", f"{len(animals)}: {', '.join(animals)}" if animals else "–"))
    emo = cfg.get("emotions") or {}
    if emo:
        rows.append(
            ("emotions (trial type → emotion)", ", ".join(f"{k} → {v}" for k, v in emo.items()))
        )
    else:
        rows.append(("emotions", ", ".join(out.emotions) or "–"))
    win = windows_of(out)
    rows.append(
        (
            "windows (s from onset)",
            f"baseline {list(win['baseline'])}, response {list(win['response'])}",
        )
    )
    hog = cfg.get("hog") or {}
    if hog:
        keys = (
            "orientations",
            "pixels_per_cell",
            "cells_per_block",
            "block_norm",
            "transform_sqrt",
        )
        rows.append(("HOG", ", ".join(f"{k} {_fmt(hog[k])}" for k in keys if k in hog)))
    sizes = sorted({_fmt(s.get("face_size")) for s in prov_sessions.values() if s})
    fw = hog.get("face_width", "–") if hog else "–"
    ds_attrs = out.prototypes.attrs if out.prototypes is not None else {}
    if "face_height" in ds_attrs:
        hog_in = f"{ds_attrs['face_height']} x {ds_attrs['face_width']} px"
    else:
        hog_in = "–"
    rows.append(
        (
            "face size",
            f"face_width {fw} (HOG input {hog_in}); crops (h x w): {', '.join(sizes) or '–'}",
        )
    )
    n_frames = sum(int(s.get("n_frames") or 0) for s in prov_sessions.values() if s)
    if n_frames:
        rows.append(("frames", f"{n_frames:,}"))
    if out.trials is not None:
        rows.append(("trials", str(len(out.trials))))
    df = pd.DataFrame(rows, columns=["item", "value"]).set_index("item")
    df.index.name = None
    return df


def _sessions_table(out: Outputs) -> pd.DataFrame | None:
    prov = (out.provenance or {}).get("sessions") or {}
    if not prov:
        return None
    cfg = {s.get("id"): s for s in out.config.get("sessions") or [] if isinstance(s, dict)}
    rows = []
    for sid, info in prov.items():
        info = info or {}
        c = cfg.get(sid, {})
        err = info.get("decode_error")
        fps = info.get("fps")
        rows.append(
            {
                "session": sid,
                "animal": c.get("animal", "–"),
                "state": c.get("state") or "–",
                "frames": info.get("n_frames", "–"),
                "fps": f"{fps:.2f}" if isinstance(fps, int | float) else "–",
                "face (h x w)": _fmt(info.get("face_size")),
                "roi (x, y, w, h)": _fmt(info.get("roi")).replace(" x ", ", "),
                "decode error": "–"
                if not err
                else f"frame {err.get('frame')}: {err.get('message')}",
            }
        )
    return pd.DataFrame(rows)


def header_section(out: Outputs) -> tuple[Section, list[str]]:
    """Section 1 (config summary, sessions, timings) and the warnings to show at the top."""
    sec = section("summary", "Run summary")
    prov = out.provenance
    warnings = [str(w) for w in (prov or {}).get("warnings") or []]
    if prov is None:
        sec["notes"].append("provenance.json not found: configuration and timings unknown.")
    for sid, info in ((prov or {}).get("sessions") or {}).items():
        err = (info or {}).get("decode_error")
        if err:
            msg = f"session {sid}: video decoded only up to frame {err.get('frame')}"
            if not any(sid in w and "decod" in w.lower() for w in warnings):
                warnings.append(f"{msg} ({err.get('message')})")
    sec["blocks"].append(table(_summary(out), "Configuration.", header=False, bid="summary-config"))
    if (st := _sessions_table(out)) is not None:
        sec["blocks"].append(table(st, "Sessions.", index=False, bid="summary-sessions"))
    timings = (prov or {}).get("timings") or {}
    nums = {
        str(k).removesuffix("_s"): float(v)
        for k, v in timings.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    if nums:
        if "total" not in nums:  # the pipeline writes its own wall-clock total
            nums["total"] = sum(nums.values())
        steps = list(nums)
        secs = [f"{v:.1f}" for v in nums.values()]
        tt = pd.DataFrame({"step": steps, "seconds": secs})
        sec["blocks"].append(table(tt, "Timings.", index=False, bid="summary-timings"))
    return sec, warnings


def _colours(out: Outputs) -> dict[str, str]:
    names = ["neutral", *out.emotions]
    if out.prototypes is not None and "emotion" in out.prototypes.coords:
        names += [str(e) for e in out.prototypes["emotion"].values]
    names = class_order(list(dict.fromkeys(names)), out)
    return fg.emotion_colours(names)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mouseface.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


def analyses_section(out_dir: Path) -> dict[str, Any] | None:
    """The science analyses' fragments (``analyses/<name>.section.html``), in run order.

    The analyses runner hands the report its sections through the output folder: one HTML
    fragment per analysis, and ``analyses/summary.json`` whose keys are in the order the
    analyses ran (a fragment without a summary entry goes last, by name).
    """
    folder = Path(out_dir) / "analyses"
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("*.section.html"))
    if not files:
        return None
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    order = {name: i for i, name in enumerate(summary)}
    files.sort(key=lambda p: (order.get(p.name.removesuffix(".section.html"), 999), p.name))
    sec = section("analyses", "Science analyses")
    for item in summary.values():
        sec["notes"] += list(item.get("notes", []))
    sec["blocks"] = [{"kind": "html", "html": f.read_text(encoding="utf-8")} for f in files]
    return sec


def filter_options(out: Outputs) -> dict[str, list[str]]:
    """Values offered by the page's filters: ``{"animal": [...], "emotion": [...],
    "state": [...]}`` (sorted; emotions in report order), from the config and the trials."""
    info = session_info(out)
    animals = {i["animal"] for i in info.values() if i["animal"]}
    states = {i["state"] for i in info.values() if i["state"]}
    emotions = list(out.emotions)
    t = out.trials
    if t is not None:
        for col, acc in (("animal", animals), ("state", states)):
            if col in t:
                acc.update(str(v) for v in t[col].dropna().unique())
        if "emotion" in t:
            emotions += [str(v) for v in t["emotion"].dropna().unique()]
    emotions = class_order(list(dict.fromkeys(emotions)), out)
    return {"animal": sorted(animals), "emotion": emotions, "state": sorted(states)}


def _script() -> str:
    path = Path(__file__).with_name("templates") / "report.js"
    return path.read_text(encoding="utf-8")


def _uses_plotly(sections: list[dict[str, Any]]) -> bool:
    return any(b.get("kind") == "plot" for s in sections for b in s["blocks"])


def render_report(out_dir: Path, *, title: str | None = None) -> str:
    """The report of ``out_dir`` as an HTML string (see :func:`build_report`)."""
    out = load_outputs(Path(out_dir))
    colours = _colours(out)
    head, warnings = header_section(out)
    sections = [
        head,
        traces_section(out, colours),
        frames_section(out, colours),
        prototypes_section(out, colours),
        decoding_section(out),
        similarity_section(out, colours),
        trials_section(out, colours),
    ]
    for extra in (
        neurons_section(Path(out_dir), colours),
        opto_section(Path(out_dir), colours),
        analyses_section(Path(out_dir)),
    ):
        if extra is not None:
            sections.append(extra)
    prov = out.provenance or {}
    plotly_js = ""
    interactive = _uses_plotly(sections) or out.trials is not None
    if _uses_plotly(sections):
        import plotly.offline  # deferred: only a page with figures carries plotly.js

        plotly_js = plotly.offline.get_plotlyjs()
    return (
        _env()
        .get_template("report.html")
        .render(
            title=title or f"mouseface report: {out.out_dir.resolve().name}",
            version=mouseface.__version__,
            run_version=prov.get("version"),
            built=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            created=prov.get("created"),
            warnings=warnings,
            sections=sections,
            filters=filter_options(out) if interactive else {},
            plotly_js=Markup(plotly_js.replace("</script", "<\\/script")),
            plot_config=Markup(pl.json_for_script(pl.PLOT_CONFIG)),
            script=Markup(_script()),
        )
    )


def build_report(out_dir: Path, *, title: str | None = None) -> Path:
    """Write ``out_dir/report.html``: a self-contained report of a pipeline output folder.

    The page opens offline and loads nothing: plotly.js is embedded once (only when the page
    has an interactive figure), each interactive figure is a JSON block drawn by the page's
    inline script, HOG glyphs and the analyses' figures are base64 PNGs, the CSS is inline.
    Filters by animal, emotion and state act on the figures and on the sortable trials table;
    hovering the per-frame strength shows a face crop read from the session's video (at most
    300 evenly spaced crops per session; none when the video is not found). Sections whose
    inputs are absent are replaced by a note: run summary (``provenance.json``),
    stimulus-locked strength traces (``trials.parquet`` and ``sessions/<id>/frames.parquet``),
    per-frame strength (``frames.parquet``), prototypes as HOG glyphs and prototype similarity
    (``prototypes.nc``), decoding (``decoding.parquet``), dose-response, trial counts and the
    trials table.

    Parameters
    ----------
    out_dir : Path
        Output folder of ``mouseface run`` / ``analyze``.
    title : str, optional
        Page title; default ``"mouseface report: <folder name>"``.

    Returns
    -------
    Path
        ``out_dir / "report.html"``, written atomically.

    Raises
    ------
    InputError
        ``out_dir`` does not exist, holds no mouseface output, or one of its files is damaged.
    """
    html = render_report(Path(out_dir), title=title)
    return write_text_atomic(Path(out_dir) / "report.html", html)
