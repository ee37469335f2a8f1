"""Stimulus-locked traces: per-frame values around each trial onset, binned at 1/fps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Trace:
    """Trial-by-bin matrix of one per-frame column around the onsets of a set of trials.

    Attributes
    ----------
    t : ndarray, shape (n_bins,)
        Bin centres relative to the onset, seconds.
    values : ndarray, shape (n_trials, n_bins)
        Mean of the column's good frames in each bin of each trial; NaN where a bin holds none.
    """

    t: np.ndarray
    values: np.ndarray

    @property
    def n(self) -> np.ndarray:
        """Trials with a value in each bin, shape (n_bins,)."""
        return np.isfinite(self.values).sum(axis=0)

    @property
    def mean(self) -> np.ndarray:
        """Mean over trials per bin (NaN where no trial has a value), shape (n_bins,)."""
        n = self.n
        s = np.where(np.isfinite(self.values), self.values, 0.0).sum(axis=0)
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)

    @property
    def sem(self) -> np.ndarray:
        """Standard error of the mean per bin (NaN with fewer than 2 trials), shape (n_bins,)."""
        n = self.n
        finite = np.isfinite(self.values)
        dev = np.where(finite, self.values - self.mean[None, :], 0.0)
        var = (dev**2).sum(axis=0) / np.maximum(n - 1, 1)
        return np.where(n > 1, np.sqrt(var / np.maximum(n, 1)), np.nan)


def time_bins(span: tuple[float, float], fps: float) -> np.ndarray:
    """Bin centres ``span[0] + k / fps`` covering ``span`` (s), shape (n_bins,)."""
    n = int(np.floor((span[1] - span[0]) * fps + 1e-9)) + 1
    return span[0] + np.arange(n) / fps


def stimulus_locked(
    trials: pd.DataFrame,
    frames: Mapping[str, pd.DataFrame],
    column: str,
    *,
    span: tuple[float, float],
    fps: float,
) -> Trace:
    """Per-trial values of ``column`` in bins of ``1 / fps`` seconds around each onset.

    Parameters
    ----------
    trials : DataFrame
        Rows with ``session`` and ``onset`` (s, video clock).
    frames : mapping
        ``{session: frames table}`` with ``time`` (s), ``column`` and optionally ``good``.
    column : str
        Per-frame column to align (e.g. ``strength_pleasure`` or ``change``).
    span : (float, float)
        Start and end of the trace relative to the onset, seconds.
    fps : float
        Bin rate, bins per second.

    Returns
    -------
    Trace
        Trials whose session has no frames table or no ``column`` are left out.
    """
    t = time_bins(span, fps)
    rows: list[np.ndarray] = []
    for _, tr in trials.iterrows():
        df = frames.get(str(tr["session"]))
        if df is None or column not in df or "time" not in df:
            continue
        time = df["time"].to_numpy(dtype=float)
        val = df[column].to_numpy(dtype=float)
        ok = np.isfinite(val) & np.isfinite(time)
        if "good" in df:
            ok &= df["good"].to_numpy(dtype=bool)
        idx = np.rint((time - float(tr["onset"]) - span[0]) * fps).astype(np.int64)
        ok &= (idx >= 0) & (idx < t.size)
        s = np.bincount(idx[ok], weights=val[ok], minlength=t.size)
        c = np.bincount(idx[ok], minlength=t.size)
        rows.append(np.where(c > 0, s / np.maximum(c, 1), np.nan))
    values = np.stack(rows) if rows else np.empty((0, t.size))
    return Trace(t=t, values=values)
