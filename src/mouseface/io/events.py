"""Stimulus event tables: BIDS-style TSV/CSV reading, validation and writing.

One row per stimulus: ``onset`` (s, video clock), ``duration`` (s), ``trial_type`` (stimulus name),
optional ``intensity`` (number), ``state`` (e.g. thirsty / sated) and ``trial`` (integer id).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.io.outputs import write_text_atomic

__all__ = [
    "EVENT_COLUMNS",
    "read_events",
    "check_events_in_video",
    "write_events",
    "events_from_signal",
]

EVENT_COLUMNS = ("onset", "duration", "trial_type", "intensity", "state", "trial")
_NA = ["n/a", "N/A", "NA", "nan", "NaN", ""]


def _row(i: int) -> int:
    """File line number of data row ``i`` (1-based, header is line 1)."""
    return int(i) + 2


def _numeric(df: pd.DataFrame, col: str, path: Path, *, required: bool) -> pd.Series:
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna() if not required else values.isna()
    bad |= ~np.isfinite(values.fillna(0.0))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{path}, line {_row(i)}: column '{col}' holds {df[col].iloc[i]!r}, not a number; "
            f"write {col} in {'seconds' if col in ('onset', 'duration') else 'numbers'}"
        )
    return values


def read_events(path: str | Path) -> pd.DataFrame:
    """Read and validate an events table.

    Parameters
    ----------
    path : str or Path
        ``.tsv`` (tab-separated) or ``.csv`` (comma-separated) file with a header row.

    Returns
    -------
    DataFrame
        Columns ``onset`` (float, s), ``duration`` (float, s; 0 when the column is absent),
        ``trial_type`` (str), ``intensity`` (float, NaN when absent), ``state`` (str or None) and
        ``trial`` (int, 1..n when absent), sorted by onset.

    Raises
    ------
    InputError
        Missing file or required column, non-numeric or negative onset/duration, empty
        trial_type, duplicated trial ids; the message names the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: events file not found; give a TSV/CSV with columns onset, "
            "duration, trial_type"
        )
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    try:
        df = pd.read_csv(path, sep=sep, na_values=_NA, keep_default_na=False, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: cannot be parsed as a {'CSV' if sep == ',' else 'TSV'} table "
            f"({exc}); use one header row and one row per stimulus"
        ) from exc
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in ("onset", "trial_type") if c not in df.columns]
    if missing:
        found = ", ".join(df.columns) or "none"
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)} (found: {found}); an "
            "events table needs onset (s), duration (s) and trial_type"
            + (" — is it tab-separated?" if len(df.columns) == 1 else "")
        )
    out = pd.DataFrame(index=df.index)
    out["onset"] = _numeric(df, "onset", path, required=True).astype(float)
    out["duration"] = (
        _numeric(df, "duration", path, required=False).fillna(0.0).astype(float)
        if "duration" in df.columns
        else 0.0
    )
    for col in ("onset", "duration"):
        neg = out[col] < 0
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise InputError(
                f"{path}, line {_row(i)}: {col} {out[col].iloc[i]} is negative; "
                f"{col} is in seconds from the first video frame"
            )
    tt = df["trial_type"].fillna("").astype(str).str.strip()
    if (tt == "").any():
        i = int(np.flatnonzero((tt == "").to_numpy())[0])
        raise InputError(
            f"{path}, line {_row(i)}: trial_type is empty; name the stimulus "
            "(e.g. sucrose, quinine, tail_shock)"
        )
    out["trial_type"] = tt
    out["intensity"] = (
        _numeric(df, "intensity", path, required=False).astype(float)
        if "intensity" in df.columns
        else np.nan
    )
    out["state"] = (
        df["state"].astype(object).where(df["state"].notna(), None)
        if "state" in df.columns
        else None
    )
    if "trial" in df.columns:
        trial = _numeric(df, "trial", path, required=True)
        if (trial != trial.round()).any():
            raise InputError(f"{path}: column 'trial' must hold integers")
        out["trial"] = trial.astype(int)
        dup = out["trial"].duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(
                f"{path}, line {_row(i)}: trial {out['trial'].iloc[i]} appears "
                "twice; trial ids must be unique within a file"
            )
    else:
        out["trial"] = np.arange(1, len(out) + 1)
    if out.empty:
        raise InputError(f"{path}: the events table has no rows; add one row per stimulus")
    return out.sort_values("onset", kind="stable").reset_index(drop=True)


def check_events_in_video(events: pd.DataFrame, *, duration: float, path: str | Path) -> None:
    """Raise InputError if an onset lies outside a video of ``duration`` seconds.

    Parameters
    ----------
    events : DataFrame
        As returned by :func:`read_events` (sorted by onset).
    duration : float
        Time of the last frame, in seconds from the first frame.
    path : str or Path
        The events file, named in the message.
    """
    late = events["onset"] > duration
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        raise InputError(
            f"{path}: trial {events['trial'].iloc[i]} has onset {events['onset'].iloc[i]:.3f} s, "
            f"after the end of the video ({duration:.3f} s); onsets are in seconds from the first "
            "frame of the video — check the units (ms?) and that the right video is paired"
        )


def write_events(events: pd.DataFrame, path: str | Path) -> Path:
    """Write an events table as BIDS-style TSV (``n/a`` for missing values), atomically."""
    path = Path(path)
    cols = [c for c in EVENT_COLUMNS if c in events.columns]
    text = events[cols].to_csv(sep="\t", index=False, na_rep="n/a", float_format="%.6g")
    write_text_atomic(path, text)
    return path


def events_from_signal(
    signal: np.ndarray, times: np.ndarray, *, threshold: float, label: str, min_gap: float = 0.0
) -> pd.DataFrame:
    """Find trigger onsets where a per-frame signal rises above a threshold.

    Parameters
    ----------
    signal : ndarray, shape (n,)
        Per-frame trigger value (e.g. mean brightness of an LED patch).
    times : ndarray, shape (n,)
        Frame times in seconds.
    threshold : float
        A frame is "on" when ``signal > threshold``.
    label : str
        ``trial_type`` of the events found.
    min_gap : float
        Rising edges closer than this (s) to the previous onset are merged into it.

    Returns
    -------
    DataFrame
        Events table: onset (time of the first "on" frame), duration (time until the first
        "off" frame after it), trial_type, trial.
    """
    signal = np.asarray(signal, dtype=float)
    times = np.asarray(times, dtype=float)
    if signal.shape != times.shape or signal.ndim != 1:
        raise InputError("signal and times must be 1-D arrays of the same length")
    on = signal > threshold
    rises = np.flatnonzero(on & ~np.r_[False, on[:-1]])
    falls = np.flatnonzero(~on & np.r_[False, on[:-1]])
    rows = []
    for r in rises:
        if rows and times[r] - rows[-1][0] < min_gap:
            continue
        f = falls[falls > r]
        end = times[f[0]] if f.size else times[-1]
        rows.append((times[r], end - times[r]))
    df = pd.DataFrame(rows, columns=["onset", "duration"], dtype=float)
    df["trial_type"] = label
    df["trial"] = np.arange(1, len(df) + 1)
    return df
