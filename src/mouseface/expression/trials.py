"""Trial windows and the per-trial table (response = response-window change minus baseline)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.errors import InputError

__all__ = ["window_mask", "window_masks", "good_or_all", "window_mean", "trial_table"]


def window_mask(times: np.ndarray, onset: float, window: tuple[float, float]) -> np.ndarray:
    """Frames whose time lies in ``[onset + window[0], onset + window[1])``.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Frame times in seconds.
    onset : float
        Stimulus onset in seconds.
    window : (float, float)
        Start and end relative to the onset, in seconds.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    return (times >= onset + window[0]) & (times < onset + window[1])


def window_masks(
    times: np.ndarray,
    events: pd.DataFrame,
    *,
    windows: Mapping[str, tuple[float, float]],
    source: str | Path = "events",
) -> dict[str, list[np.ndarray]]:
    """Masks of every window for every trial; InputError when a window holds no frame.

    Returns
    -------
    dict
        ``{window_name: [mask per event row]}``, each mask bool of shape (n,).
    """
    out: dict[str, list[np.ndarray]] = {name: [] for name in windows}
    for _, ev in events.iterrows():
        for name, win in windows.items():
            m = window_mask(times, float(ev["onset"]), tuple(win))
            if not m.any():
                raise InputError(
                    f"{source}: trial {ev['trial']} (onset {ev['onset']:.3f} s): the {name} window "
                    f"{list(win)} s holds no video frame (video spans {times[0]:.3f}-"
                    f"{times[-1]:.3f} s); move the onset, shorten the window or drop the row"
                )
            out[name].append(m)
    return out


def good_or_all(mask: np.ndarray, good: np.ndarray) -> np.ndarray:
    """Indices of the frames of ``mask`` without a quality flag (``good``), or of all of
    ``mask`` when every one of them is flagged; int (k,)."""
    use = mask & good
    return np.flatnonzero(use if use.any() else mask)


def window_mean(values: np.ndarray, mask: np.ndarray, good: np.ndarray) -> float:
    """Mean of ``values`` over the good frames of ``mask`` (all of it if none is good); NaN
    for an empty window."""
    idx = good_or_all(mask, good)
    return float(np.nanmean(values[idx])) if idx.size else float("nan")


def trial_table(
    events: pd.DataFrame,
    times: np.ndarray,
    change: np.ndarray,
    strengths: Mapping[str, np.ndarray],
    *,
    good: np.ndarray,
    still: np.ndarray | None = None,
    masks: Mapping[str, list[np.ndarray]],
    min_good: float = 0.5,
) -> pd.DataFrame:
    """One row per trial with its response and baseline-corrected strengths.

    Parameters
    ----------
    events : DataFrame
        Validated events (see :func:`mouseface.io.events.read_events`).
    times : ndarray, shape (n,)
        Frame times (s).
    change : ndarray, shape (n,)
        Per-frame ``1 - r`` with the neutral prototype.
    strengths : mapping emotion -> ndarray, shape (n,)
        Per-frame Pearson r with each emotion prototype.
    good : ndarray of bool, shape (n,)
        Frames without a quality flag; windows average good frames when there are any.
    still : ndarray of bool, shape (n,), optional
        Frames without unusually large motion. A trial whose baseline is mostly not still
        (the animal was moving before the stimulus) is not ``valid``.
    masks : mapping
        ``{"baseline": [...], "response": [...]}`` from :func:`window_masks`.
    min_good : float
        A trial is ``valid`` when at least this fraction of frames in both windows is good
        (and of baseline frames is still).

    Returns
    -------
    DataFrame
        Columns trial, trial_type, intensity, state, onset, duration, n_baseline, n_response,
        valid, baseline_change, response_change, response (= response_change - baseline_change),
        strength_<emotion> (response-window mean minus baseline-window mean of the r).
    """
    rows = []
    for k, (_, ev) in enumerate(events.iterrows()):
        b, r = masks["baseline"][k], masks["response"][k]
        frac_good = min(good[b].mean(), good[r].mean())
        if still is not None:
            frac_good = min(frac_good, still[b].mean())
        row = {
            "trial": int(ev["trial"]),
            "trial_type": ev["trial_type"],
            "intensity": float(ev["intensity"]) if pd.notna(ev["intensity"]) else np.nan,
            "state": ev["state"] if isinstance(ev["state"], str) else None,
            "onset": float(ev["onset"]),
            "duration": float(ev["duration"]),
            "n_baseline": int(b.sum()),
            "n_response": int(r.sum()),
            "valid": bool(frac_good >= min_good),
            "baseline_change": window_mean(change, b, good),
            "response_change": window_mean(change, r, good),
        }
        row["response"] = row["response_change"] - row["baseline_change"]
        for emo, s in strengths.items():
            row[f"strength_{emo}"] = window_mean(s, r, good) - window_mean(s, b, good)
        rows.append(row)
    return pd.DataFrame(rows)
