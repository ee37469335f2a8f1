"""The neural recording value every reader returns: traces, times, neuron ids, planes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mouseface.errors import InputError

__all__ = ["NeuralRecording", "KINDS"]

#: Trace kinds: raw fluorescence (``F``, optionally with neuropil ``Fneu``) or ``dff`` (dF/F).
KINDS = ("F", "dff")


@dataclass(frozen=True, eq=False)
class NeuralRecording:
    """Calcium traces of one imaging session on the neural clock.

    Attributes
    ----------
    traces : numpy.ndarray
        ``(n_neurons, n_times)`` float32: raw fluorescence (``kind == "F"``) or dF/F.
    times : numpy.ndarray
        ``(n_times,)`` float64, seconds on the NEURAL clock (the imaging system's own clock),
        strictly increasing. :mod:`mouseface.neural.clocks` maps them to the video clock.
    neuron : numpy.ndarray
        ``(n_neurons,)`` int64 neuron ids (ROI index in the source; unique within a plane).
    plane : numpy.ndarray
        ``(n_neurons,)`` int64 imaging plane of each neuron (0 for single-plane data).
    kind : str
        ``"F"`` or ``"dff"``.
    source : pathlib.Path
        The file or folder the traces were read from (for messages and provenance).
    neuropil : numpy.ndarray or None
        ``(n_neurons, n_times)`` float32 neuropil fluorescence (suite2p ``Fneu``) when known.
    rate : float
        Nominal sampling rate, Hz (``1 / median(diff(times))`` when the file has no rate).
    """

    traces: np.ndarray
    times: np.ndarray
    neuron: np.ndarray
    plane: np.ndarray
    kind: str
    source: Path
    neuropil: np.ndarray | None = None
    rate: float = field(default=float("nan"))

    def __post_init__(self) -> None:
        src = self.source
        tr = np.asarray(self.traces)
        if tr.ndim != 2:
            raise InputError(f"{src}: traces must be (neurons, times), got shape {tr.shape}")
        n, t = tr.shape
        if n == 0 or t < 2:
            raise InputError(f"{src}: no neurons or fewer than 2 time points (shape {tr.shape})")
        if self.kind not in KINDS:
            raise InputError(f"{src}: trace kind must be one of {KINDS}, got {self.kind!r}")
        times = np.asarray(self.times, dtype=np.float64)
        if times.shape != (t,):
            raise InputError(
                f"{src}: {t} samples per trace but {times.shape[0]} timestamps; give one "
                "timestamp per imaging frame"
            )
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            i = int(np.argmax(~np.isfinite(times[1:]) | (np.diff(times) <= 0))) + 1
            raise InputError(
                f"{src}: timestamps must be finite and strictly increasing (sample {i}: "
                f"{times[i - 1]!r} -> {times[i]!r}); fix the file's timestamps or give a rate"
            )
        bad = ~np.isfinite(tr)
        if bad.any():
            i, j = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(
                f"{src}: trace of neuron {int(np.asarray(self.neuron)[i])} (row {i}) is NaN or "
                f"infinite at sample {j} ({int(bad.sum())} values in all); drop that ROI or "
                "fill the gap in the source before running"
            )
        for name in ("neuron", "plane"):
            if np.asarray(getattr(self, name)).shape != (n,):
                raise InputError(f"{src}: {name} must have one entry per neuron ({n})")
        if self.neuropil is not None and np.asarray(self.neuropil).shape != tr.shape:
            raise InputError(
                f"{src}: neuropil shape {np.asarray(self.neuropil).shape} differs from the "
                f"traces' {tr.shape}; give the Fneu that belongs to F"
            )
        object.__setattr__(self, "traces", np.ascontiguousarray(tr, dtype=np.float32))
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "neuron", np.asarray(self.neuron, dtype=np.int64))
        object.__setattr__(self, "plane", np.asarray(self.plane, dtype=np.int64))
        object.__setattr__(self, "source", Path(self.source))
        if self.neuropil is not None:
            np_arr = np.ascontiguousarray(self.neuropil, dtype=np.float32)
            object.__setattr__(self, "neuropil", np_arr)
        if not np.isfinite(self.rate):
            object.__setattr__(self, "rate", float(1.0 / np.median(np.diff(times))))
        for arr in (self.traces, self.times, self.neuron, self.plane, self.neuropil):
            if arr is not None:
                arr.setflags(write=False)

    @property
    def n_neurons(self) -> int:
        """Number of neurons (rows of :attr:`traces`)."""
        return int(self.traces.shape[0])

    @property
    def n_times(self) -> int:
        """Number of imaging samples."""
        return int(self.traces.shape[1])

    def with_times(self, times: np.ndarray) -> NeuralRecording:
        """The same recording with other timestamps (e.g. mapped to the video clock)."""
        return replace(self, times=np.asarray(times, dtype=np.float64))
