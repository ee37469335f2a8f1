"""Read a pipeline output folder for the report (every part optional, unreadable files raise)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mouseface.errors import InputError

_FIX = "re-run `mouseface run` (or `mouseface report` on a complete output folder)"


@dataclass
class Outputs:
    """Everything the report reads from one output folder; ``None`` where a file is absent."""

    out_dir: Path
    provenance: dict[str, Any] | None = None
    trials: pd.DataFrame | None = None
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    prototypes: xr.Dataset | None = None
    decoding: pd.DataFrame | None = None

    @property
    def emotions(self) -> list[str]:
        """Emotion names with a ``strength_<e>`` column, in column order."""
        cols: list[str] = []
        tables = list(self.frames.values()) + ([self.trials] if self.trials is not None else [])
        for df in tables:
            for c in df.columns:
                if c.startswith("strength_") and c[9:] not in cols:
                    cols.append(c[9:])
        return cols

    def fps(self, session: str) -> float | None:
        """Frame rate of a session from provenance, else from its frame times."""
        info = ((self.provenance or {}).get("sessions") or {}).get(session) or {}
        fps = info.get("fps")
        if fps is not None and np.isfinite(fps) and fps > 0:
            return float(fps)
        df = self.frames.get(session)
        if df is not None and "time" in df and len(df) > 1:
            dt = np.diff(df["time"].to_numpy(dtype=float))
            dt = dt[np.isfinite(dt) & (dt > 0)]
            if dt.size:
                return float(1.0 / np.median(dt))
        return None

    @property
    def config(self) -> dict[str, Any]:
        """The project config stored in provenance (empty dict when absent)."""
        return dict((self.provenance or {}).get("config") or {})


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: cannot read this Parquet file ({exc}); {_FIX}") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read this JSON file ({exc}); {_FIX}") from exc
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a JSON object at the top level; {_FIX}")
    return obj


def _read_netcdf(path: Path) -> xr.Dataset:
    try:
        with xr.open_dataset(path, engine="scipy") as ds:
            return ds.load()
    except Exception as exc:  # backends raise OSError, ValueError, TypeError...
        raise InputError(f"{path}: cannot read this netCDF file ({exc}); {_FIX}") from exc


def load_outputs(out_dir: Path) -> Outputs:
    """Read every known output of ``out_dir``; InputError when there is none or one is damaged.

    Parameters
    ----------
    out_dir : Path
        Output folder written by the pipeline.

    Returns
    -------
    Outputs
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: output folder not found; pass the --out folder of a run")
    out = Outputs(out_dir=out_dir)
    if (p := out_dir / "provenance.json").is_file():
        out.provenance = _read_json(p)
    if (p := out_dir / "trials.parquet").is_file():
        out.trials = _read_parquet(p)
    if (p := out_dir / "decoding.parquet").is_file():
        out.decoding = _read_parquet(p)
    if (p := out_dir / "prototypes.nc").is_file():
        out.prototypes = _read_netcdf(p)
    sessions_dir = out_dir / "sessions"
    if sessions_dir.is_dir():
        for sub in sorted(sessions_dir.iterdir()):
            if (p := sub / "frames.parquet").is_file():
                out.frames[sub.name] = _read_parquet(p)
    if (
        out.provenance is None
        and out.trials is None
        and out.decoding is None
        and out.prototypes is None
        and not out.frames
    ):
        raise InputError(
            f"{out_dir}: no mouseface outputs found (provenance.json, trials.parquet, "
            "prototypes.nc, decoding.parquet or sessions/<id>/frames.parquet); run "
            "`mouseface run CONFIG --out` first and point the report at that folder"
        )
    return out
