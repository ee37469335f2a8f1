"""Laser-epoch tables of optogenetic sessions: read, validate, mark sham epochs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.errors import InputError

__all__ = ["LASER_COLUMNS", "read_laser_table", "check_laser_table"]

#: Required columns: onset (s, video clock), duration (s), frequency (Hz), power (mW), target.
LASER_COLUMNS = ("onset", "duration", "frequency", "power", "target")
_NA = ["n/a", "N/A", "NA", "nan", "NaN", ""]
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_UNIT = {"onset": "s", "duration": "s", "frequency": "Hz", "power": "mW"}


def _line(i: int) -> int:
    """File line of data row ``i`` (0-based; line 1 is the header)."""
    return i + 2


def check_laser_table(laser: pd.DataFrame, *, source: str = "laser table") -> pd.DataFrame:
    """Validate a laser table and normalise it.

    Parameters
    ----------
    laser : pandas.DataFrame
        Columns :data:`LASER_COLUMNS`; optional boolean ``sham`` (``target == "sham"`` also
        marks a sham epoch). Row order = file order.
    source : str, optional
        File name for messages.

    Returns
    -------
    pandas.DataFrame
        Sorted by onset, with float ``onset``, ``duration``, ``frequency``, ``power``, str
        ``target``, bool ``sham`` and int ``epoch`` (0-based order) and ``row`` (file line).

    Raises
    ------
    mouseface.errors.InputError
        Missing columns, non-numbers, durations <= 0, negative power/frequency, or overlapping
        epochs (naming both rows).
    """
    missing = [c for c in LASER_COLUMNS if c not in laser.columns]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {missing} (has {list(laser.columns)}); a laser table "
            "has one row per epoch: onset, duration (s), frequency (Hz), power (mW), target"
        )
    out = pd.DataFrame({"row": [_line(i) for i in range(len(laser))]})
    for c in ("onset", "duration", "frequency", "power"):
        v = pd.to_numeric(laser[c], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"{source}: line {_line(i)}: {c} {laser[c].iloc[i]!r} is not a number; give "
                f"{c} in {_UNIT[c]}"
            )
        if c == "duration" and np.any(v <= 0):
            i = int(np.argmax(v <= 0))
            raise InputError(f"{source}: line {_line(i)}: duration must be > 0 s, got {v[i]}")
        if c in ("frequency", "power") and np.any(v < 0):
            i = int(np.argmax(v < 0))
            raise InputError(f"{source}: line {_line(i)}: {c} must be >= 0, got {v[i]}")
        out[c] = v
    out["target"] = laser["target"].astype(str).str.strip().to_numpy()
    sham = out["target"].str.lower() == "sham"
    if "sham" in laser.columns:
        col = laser["sham"]
        if col.dtype == bool:
            flag = col.to_numpy()
        else:
            text = col.astype(str).str.strip().str.lower()
            unknown = ~text.isin(_TRUE | _FALSE)
            if unknown.any():
                i = int(np.argmax(unknown.to_numpy()))
                raise InputError(
                    f"{source}: line {_line(i)}: sham {col.iloc[i]!r} is not true/false (1/0)"
                )
            flag = text.isin(_TRUE).to_numpy()
        sham = sham | flag
    out["sham"] = np.asarray(sham, dtype=bool)
    out = out.sort_values("onset", kind="stable").reset_index(drop=True)
    end = out["onset"] + out["duration"]
    over = out["onset"].to_numpy()[1:] < end.to_numpy()[:-1] - 1e-9
    if over.any():
        i = int(np.argmax(over))
        a, b = out.iloc[i], out.iloc[i + 1]
        a_end = a["onset"] + a["duration"]
        raise InputError(
            f"{source}: laser epochs overlap: line {a['row']} ({a['onset']:g}-{a_end:g} s, "
            f"{a['target']}) and line {b['row']} (from {b['onset']:g} s, {b['target']}); fix the "
            "onset or duration so that each epoch ends before the next begins"
        )
    out["epoch"] = np.arange(len(out), dtype=np.int64)
    return out[["epoch", "row", *LASER_COLUMNS, "sham"]]


def read_laser_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a laser-epoch table (TSV, or CSV by extension; ``n/a`` allowed only in ``sham``).

    Parameters
    ----------
    path : str or os.PathLike
        ``.tsv``/``.txt`` (tab-separated) or ``.csv``.

    Returns
    -------
    pandas.DataFrame
        See :func:`check_laser_table`.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: laser table not found; check `opto` in the config")
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    try:
        df = pd.read_csv(p, sep=sep, na_values=_NA, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - pandas raises many kinds
        raise InputError(f"{p}: not a readable table ({type(exc).__name__}: {exc})") from None
    if len(df) == 0:
        raise InputError(f"{p}: no laser epochs (the table has a header only)")
    if "sham" in df.columns:
        df["sham"] = df["sham"].astype(object).where(df["sham"].notna(), "false")
    return check_laser_table(df, source=str(p))
