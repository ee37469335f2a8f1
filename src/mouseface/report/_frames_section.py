"""Report section: per-frame strength of each session, stimuli shaded, face crop on hover."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import zarr
from markupsafe import Markup

from mouseface.errors import InputError
from mouseface.report import plots as pl
from mouseface.report._load import Outputs
from mouseface.report._sections import Section, class_order, plot, section
from mouseface.report.crops import FaceCrops, face_crops

#: Crops kept per session at most, and over the whole page at most.
MAX_CROPS_PER_SESSION = 300
MAX_CROPS_TOTAL = 3000
#: Points per session and emotion in the per-frame figure: at most, at least, over the page.
MAX_POINTS, MIN_POINTS, TOTAL_POINTS = 1500, 300, 12000


def session_info(out: Outputs) -> dict[str, dict[str, str]]:
    """``{session: {"animal", "state"}}`` from the config, else from the trials table."""
    info: dict[str, dict[str, str]] = {}
    for s in out.config.get("sessions") or []:
        if isinstance(s, dict) and s.get("id") is not None:
            info[str(s["id"])] = {
                "animal": str(s.get("animal") or ""),
                "state": str(s.get("state") or ""),
            }
    t = out.trials
    if t is not None and "session" in t:
        for sid, g in t.groupby(t["session"].astype(str), sort=False):
            row = info.setdefault(str(sid), {"animal": "", "state": ""})
            for key in ("animal", "state"):
                if not row[key] and key in g and g[key].notna().any():
                    row[key] = str(g[key].dropna().iloc[0])
    return info


def _zarr_attrs(out: Outputs, sid: str) -> dict[str, Any]:
    store = out.out_dir / "sessions" / sid / "features.zarr"
    if not store.is_dir():
        return {}
    try:
        return dict(zarr.open_group(str(store), mode="r").attrs)
    except Exception:  # a damaged store only costs the crops
        return {}


def video_and_roi(out: Outputs, sid: str) -> tuple[Path | None, tuple[int, int, int, int] | None]:
    """The session's video (config in provenance) and the ROI the run used (provenance, else
    ``features.zarr`` attributes); ``(None, None)`` when the config does not name a video."""
    video = None
    for s in out.config.get("sessions") or []:
        if isinstance(s, dict) and str(s.get("id")) == sid and s.get("video"):
            video = Path(str(s["video"]))
    prov = ((out.provenance or {}).get("sessions") or {}).get(sid) or {}
    roi = prov.get("roi")
    if roi is None:
        roi = _zarr_attrs(out, sid).get("roi")
    box = tuple(int(v) for v in roi) if roi is not None and len(roi) == 4 else None
    return video, box  # type: ignore[return-value]


def session_crops(
    out: Outputs, *, per_session: int = MAX_CROPS_PER_SESSION, total: int = MAX_CROPS_TOTAL
) -> tuple[dict[str, FaceCrops], list[str]]:
    """Face crops of every session whose video can be read, and a note for each that cannot.

    Parameters
    ----------
    out : Outputs
    per_session : int
        Crops per session at most.
    total : int
        Crops over all sessions at most (shared evenly).

    Returns
    -------
    crops : dict
        ``{session: FaceCrops}``.
    notes : list of str
        Why a session has no crops (video moved, unreadable, ...).
    """
    sids = [s for s, df in out.frames.items() if "frame" in df]
    if not sids:
        return {}, []
    k = max(1, min(per_session, total // len(sids)))
    crops: dict[str, FaceCrops] = {}
    notes: list[str] = []
    for sid in sids:
        video, roi = video_and_roi(out, sid)
        if video is None:
            notes.append(f"session {sid}: no video named in provenance: no face crops.")
            continue
        if not video.exists():
            notes.append(f"session {sid}: video {video} not found: no face crops on hover.")
            continue
        fps = out.fps(sid) or 30.0
        try:
            crops[sid] = face_crops(
                video, out.frames[sid]["frame"].to_numpy(), roi=roi, max_crops=k, fps=fps
            )
        except InputError as exc:
            notes.append(f"session {sid}: face crops skipped ({exc}).")
    return crops, notes


def _controls(
    sids: list[str], info: Mapping[str, Mapping[str, str]], size: tuple[int, int]
) -> Markup:
    """Session selector and the hovered frame's face crop, in one row above the figure."""
    opts = []
    for sid in sids:
        i = info.get(sid) or {}
        a, s = i.get("animal", ""), i.get("state", "")
        label = f"{sid} ({a}{', ' + s if s else ''})" if a or s else sid
        opts.append(
            f'<option value="{html.escape(sid, quote=True)}" '
            f'data-animal="{html.escape(a, quote=True)}" data-state="{html.escape(s, quote=True)}"'
            f">{html.escape(label)}</option>"
        )
    w, h = 2 * size[0], 2 * size[1]
    return Markup(
        '<div class="controls frame-controls" id="session-controls">'
        '<div><label for="session-select">Session </label>'
        f'<select id="session-select">{"".join(opts)}</select> '
        '<span id="session-none" class="note" hidden>no session matches the filters</span></div>'
        '<div id="hover-crop" class="hover-crop">'
        f'<img id="hover-crop-img" alt="face crop of the hovered frame" width="{w}" '
        f'height="{h}" hidden><div id="hover-crop-caption" class="note">'
        "hover the traces to see the face</div></div></div>"
    )


def frames_section(
    out: Outputs,
    colours: Mapping[str, str],
    *,
    per_session: int = MAX_CROPS_PER_SESSION,
    total: int = MAX_CROPS_TOTAL,
) -> Section:
    """Per-frame strength of every emotion over each session (interactive), with face crops.

    Parameters
    ----------
    out : Outputs
    colours : mapping
        Colour of each emotion.
    per_session, total : int
        Face crops kept per session and over all sessions at most.
    """
    sec = section("frames", "Per-frame expression strength")
    emotions = class_order(out.emotions, out)
    usable = {
        s: df
        for s, df in out.frames.items()
        if "time" in df and any(f"strength_{e}" in df for e in emotions)
    }
    if not usable:
        sec["notes"].append(
            "Skipped: no sessions/<id>/frames.parquet with time and strength_<emotion> columns."
        )
        return sec
    info = session_info(out)
    # points per session and emotion: 1500 for up to 8 sessions, fewer (>= 300) beyond
    max_points = max(MIN_POINTS, min(MAX_POINTS, TOTAL_POINTS // len(usable)))
    fig = pl.session_strength_plot(
        usable,
        out.trials,
        emotions=emotions,
        sessions=info,
        colours=colours,
        max_points=max_points,
    )
    crops, notes = session_crops(out, per_session=per_session, total=total)
    sec["notes"] += notes
    sizes = [c.size for c in crops.values()]
    n = sum(len(c.frames) for c in crops.values())
    size = sizes[0] if sizes else (48, 40)
    sec["blocks"].append({"kind": "raw", "html": _controls(list(usable), info, size)})
    bin_frames = max(1, -(-max(len(df) for df in usable.values()) // max_points))
    most = max((len(c.frames) for c in crops.values()), default=0)
    cap = (
        "Strength (Pearson r of each frame's HOG with each emotion's prototype) over the whole "
        f"session, good frames averaged in bins of up to {bin_frames} frames; shaded: stimulus "
        "periods, coloured by the trial's emotion. Hover the traces to see the face of that "
        f"frame ({n} face crops in this page, at most {most} per session, evenly spaced over "
        "the session; the nearest one is shown)."
    )
    sec["blocks"].append(plot("fig-strength-frames", fig, cap, "per-frame strength traces"))
    sec["blocks"].append(
        {
            "kind": "data",
            "id": "crops-data",
            "json": Markup(pl.json_for_script({s: c.to_json() for s, c in crops.items()})),
        }
    )
    return sec
