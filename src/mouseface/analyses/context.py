"""What an analysis sees: the output folder of a run, loaded lazily."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from mouseface.errors import InputError
from mouseface.io.config import ProjectConfig, config_from_dict
from mouseface.io.feature_store import open_hog, read_rows

__all__ = ["Context", "Result", "load_context"]


@dataclass
class Result:
    """What one analysis returns.

    Attributes
    ----------
    tables : dict of str to DataFrame
        Tidy tables, written as ``analyses/<analysis>_<name>.parquet``.
    summary : dict
        Key numbers (JSON-able) for ``analyses/summary.json`` and the CLI.
    section_html : str or None
        A self-contained HTML fragment (``<section>...</section>``, images as data: URIs) that
        ``report.html`` includes.
    notes : list of str
        Why parts were skipped (too few animals, a class without frames, ...).
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    section_html: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """Lazy access to a run's outputs.

    Attributes
    ----------
    out : Path
        The output folder.
    provenance : dict
    config : ProjectConfig
        The run's configuration (absolute paths).
    options : dict
        ``config.analyses[<name>]`` options of the analysis being run (set by the runner).
    """

    out: Path
    provenance: dict
    config: ProjectConfig
    options: dict = field(default_factory=dict)
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @cached_property
    def trials(self) -> pd.DataFrame:
        """``trials.parquet``."""
        return pd.read_parquet(self.out / "trials.parquet")

    @cached_property
    def prototypes(self) -> xr.Dataset:
        """``prototypes.nc`` (loaded into memory)."""
        with xr.open_dataset(self.out / "prototypes.nc", engine="scipy") as ds:
            return ds.load()

    @property
    def sessions(self) -> list[str]:
        """Session ids in config order."""
        return [s.id for s in self.config.sessions]

    def session_animal(self, session: str) -> str:
        """Animal of a session."""
        return next(s.animal for s in self.config.sessions if s.id == session)

    def session_state(self, session: str) -> str | None:
        """Config ``state`` of a session (None when not given)."""
        return next(s.state for s in self.config.sessions if s.id == session)

    def frames(self, session: str) -> pd.DataFrame:
        """``sessions/<id>/frames.parquet`` (cached)."""
        if session not in self._frames:
            self._frames[session] = pd.read_parquet(
                self.out / "sessions" / session / "frames.parquet"
            )
        return self._frames[session]

    def hog_array(self, session: str) -> zarr.Array:
        """The session's HOG as a lazy zarr array (n, d): slice it to read blocks."""
        return open_hog(self.out / "sessions" / session / "features.zarr")

    def hog(self, session: str, index: np.ndarray | None = None) -> np.ndarray:
        """HOG rows of a session, float32 (n, d); all rows or those at sorted ``index``."""
        arr = self.hog_array(session)
        return arr[:] if index is None else read_rows(arr, index)

    @property
    def windows(self) -> dict[str, tuple[float, float]]:
        """Trial windows (s relative to onset)."""
        return {
            "baseline": tuple(self.config.windows.baseline),
            "response": tuple(self.config.windows.response),
        }

    @property
    def emotions(self) -> list[str]:
        """Emotions with a strength column, in table order."""
        return [
            c.removeprefix("strength_") for c in self.trials.columns if c.startswith("strength_")
        ]


def load_context(out: str | Path) -> Context:
    """Open a finished output folder (InputError if it is not one)."""
    out = Path(out)
    for name in ("provenance.json", "trials.parquet"):
        if not (out / name).is_file():
            raise InputError(
                f"{out}: no {name}; run 'mouseface run' (or analyze) into this folder first"
            )
    prov = json.loads((out / "provenance.json").read_text())
    cfg = config_from_dict(prov["config"], source=f"{out / 'provenance.json'} config")
    return Context(out=out, provenance=prov, config=cfg)
