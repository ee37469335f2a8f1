"""Shared NWB helpers for io/ (private): lazy pynwb import, names, the output-folder reader.

pynwb and hdmf take about two seconds to import, so they are imported inside functions only;
importing :mod:`mouseface` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mouseface.errors import InputError

#: Behaviour processing module and the names of what the exporter puts in it.
BEHAVIOR_MODULE = "behavior"
FACE_SHIFT = "face_shift"
FACE_ROI = "face_roi"
FACE_IMAGES = "face_images"
MEAN_FACE = "mean_face"
PREDICTED = "predicted"
VIDEO_SERIES = "face_video"
EVENTS_TABLE = "stimulus_events"
#: Value written for a missing text entry (NWB text columns cannot hold None).
MISSING_TEXT = "n/a"
#: Frame-table columns that are indices or times, not traces.
FRAME_INDEX_COLUMNS = ("frame", "time")


def require_pynwb() -> Any:
    """Import and return :mod:`pynwb` (slow: ~2 s), with a clear error when it is missing."""
    try:
        import pynwb
    except ImportError as exc:  # pragma: no cover - pynwb is a dependency
        raise InputError(
            "NWB support needs the 'pynwb' package; install it with pip install 'pynwb>=4,<5'"
        ) from exc
    return pynwb


def text_column(values: pd.Series) -> list[str]:
    """Strings of a column, with None / NaN written as :data:`MISSING_TEXT`."""
    return [MISSING_TEXT if is_missing(v) else str(v) for v in values]


def is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def column_kind(values: pd.Series) -> str:
    """'bool', 'int', 'float' or 'text': how a DataFrame column is stored in NWB."""
    dt = values.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_integer_dtype(dt):
        return "int"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    return "text"


def column_data(values: pd.Series) -> np.ndarray | list[str]:
    """Column values in the form an NWB VectorData takes (see :func:`column_kind`)."""
    kind = column_kind(values)
    if kind == "bool":
        return values.to_numpy(dtype=bool)
    if kind == "int":
        return values.to_numpy(dtype=np.int64)
    if kind == "float":
        return values.to_numpy(dtype=np.float64)
    return text_column(values)


def read_table(path: Path, *, session: str | None = None) -> pd.DataFrame | None:
    """Read a Parquet table of the output folder; rows of ``session`` only if it has that column.

    Returns None when the file does not exist.
    """
    if not path.is_file():
        return None
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputError(
            f"{path}: cannot be read as Parquet ({exc}); rerun 'mouseface run' to rewrite it"
        ) from exc
    if session is not None and "session" in df.columns:
        df = df[df["session"].astype(str) == session].reset_index(drop=True)
    return df


def read_provenance(out_dir: Path) -> dict[str, Any]:
    """``provenance.json`` of an output folder as a dict (empty when the file is absent)."""
    path = out_dir / "provenance.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not valid JSON ({exc}); rerun 'mouseface run' to rewrite it"
        ) from exc


def regular_rate(times: np.ndarray, *, atol: float = 1e-7) -> float | None:
    """Sampling rate (Hz) when ``times`` (s) are ``times[0] + i / rate`` to within ``atol`` s.

    Returns None for fewer than three times or an uneven spacing (variable frame rate): such
    series are stored with explicit timestamps.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.size < 3:
        return None
    step = (times[-1] - times[0]) / (times.size - 1)
    if not step > 0:
        return None
    fit = times[0] + np.arange(times.size) * step
    return 1.0 / step if bool(np.all(np.abs(times - fit) <= atol)) else None
