"""Readers of neural recordings (suite2p folders, NWB files, plain tables), by format name.

Each reader takes a path and keyword options and returns one
:class:`~mouseface.neural.recording.NeuralRecording` on the neural clock; bad input raises
:class:`~mouseface.errors.InputError` naming the file and the fix. The registry
:data:`READERS` is a constant (read-only) mapping from format name to reader, in the manner of
movement's loaders; :func:`read_neural` picks one by name or from the path.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.neural.recording import NeuralRecording

__all__ = ["READERS", "read_neural", "read_suite2p", "read_nwb", "read_table", "guess_format"]

Reader = Callable[..., NeuralRecording]


# ---------------------------------------------------------------------------------------------
# suite2p
def _plane_dirs(path: Path) -> list[Path]:
    """``plane*/`` folders of a suite2p output (or the folder itself when it is one plane)."""
    if (path / "F.npy").is_file():
        return [path]
    planes = sorted(
        (p for p in path.glob("plane*") if p.is_dir() and re.fullmatch(r"plane\d+", p.name)),
        key=lambda p: int(p.name[5:]),
    )
    if not planes:
        raise InputError(
            f"{path}: no suite2p plane folder (plane0/, plane1/, ... with F.npy) and no F.npy "
            "here; point `neural.path` at the suite2p output folder"
        )
    return planes


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"{path}: file missing; suite2p writes it next to F.npy (rerun suite2p)")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable numeric .npy file ({exc})") from None


def _suite2p_rate(plane: Path) -> float | None:
    """``fs`` from ``ops.npy``, or None when there is no ops.npy.

    ``ops.npy`` is a numpy-pickled dict (suite2p's own format); it is loaded with
    ``allow_pickle=True`` ONLY to read its ``fs`` entry. Load suite2p folders you trust, or
    pass ``fs=`` and delete ops.npy to avoid unpickling.
    """
    ops_path = plane / "ops.npy"
    if not ops_path.is_file():
        return None
    try:
        ops = np.load(ops_path, allow_pickle=True).item()
        return float(ops["fs"])
    except Exception as exc:  # noqa: BLE001 - any failure means an unusable ops.npy
        raise InputError(
            f"{ops_path}: could not read the frame rate 'fs' ({type(exc).__name__}: {exc}); "
            "pass the rate explicitly (neural: fs: <Hz>)"
        ) from None


def read_suite2p(
    path: str | os.PathLike[str],
    *,
    fs: float | None = None,
    cells_only: bool = True,
    start_time: float = 0.0,
) -> NeuralRecording:
    """Read a suite2p output folder (``plane*/`` with F.npy, Fneu.npy, iscell.npy, ops.npy).

    Several planes are concatenated (neurons of plane 0 first) and labelled by
    :attr:`NeuralRecording.plane`. All planes must have the same number of frames; the
    per-plane sampling offset of a multi-plane scan is ignored (each plane's frame ``i`` is
    placed at ``start_time + i / fs``).

    Parameters
    ----------
    path : str or os.PathLike
        The suite2p folder holding ``plane0/``, ``plane1/``, ... or one plane folder.
    fs : float or None, optional
        Volume rate in Hz. Default: ``fs`` from each plane's ``ops.npy``. ``ops.npy`` is a
        numpy-pickled dict: it is loaded with ``allow_pickle=True`` only to read ``fs``; pass
        ``fs`` (and remove ops.npy) for folders you do not trust.
    cells_only : bool, optional
        Keep only ROIs with ``iscell[:, 0] == 1`` (default True). iscell.npy is then required.
    start_time : float, optional
        Neural-clock time of the first frame, seconds (default 0).

    Returns
    -------
    NeuralRecording
        ``kind="F"`` with ``neuropil`` = Fneu (when present), ``neuron`` = ROI index within
        its plane, ``times`` = ``start_time + arange(n) / fs`` (neural clock).
    """
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root}: suite2p folder not found; check `neural.path`")
    traces, neuropil, neurons, planes, rates, lengths = [], [], [], [], [], []
    for k, plane in enumerate(_plane_dirs(root)):
        F = _load_npy(plane / "F.npy")
        if F.ndim != 2:
            raise InputError(f"{plane / 'F.npy'}: expected (ROIs, frames), got shape {F.shape}")
        has_neu = (plane / "Fneu.npy").is_file()
        Fneu = _load_npy(plane / "Fneu.npy") if has_neu else None
        if Fneu is not None and Fneu.shape != F.shape:
            raise InputError(
                f"{plane / 'Fneu.npy'}: shape {Fneu.shape} differs from F.npy {F.shape}; the two "
                "files come from different suite2p runs (rerun suite2p on this plane)"
            )
        keep = np.ones(F.shape[0], dtype=bool)
        if cells_only:
            iscell = _load_npy(plane / "iscell.npy")
            iscell = iscell.reshape(iscell.shape[0], -1)
            if iscell.shape[0] != F.shape[0]:
                raise InputError(
                    f"{plane / 'iscell.npy'}: {iscell.shape[0]} ROIs but F.npy has {F.shape[0]}; "
                    "iscell.npy and F.npy are from different runs or planes (rerun the suite2p "
                    "classifier for this plane, or set cells_only: false)"
                )
            keep = iscell[:, 0] > 0.5
        rate = fs if fs is not None else _suite2p_rate(plane)
        if rate is None or not rate > 0:
            raise InputError(
                f"{plane}: no frame rate (ops.npy missing or fs <= 0); pass it (neural: fs: <Hz>)"
            )
        traces.append(F[keep])
        neuropil.append(Fneu[keep] if Fneu is not None else None)
        neurons.append(np.flatnonzero(keep))
        planes.append(np.full(int(keep.sum()), k))
        rates.append(float(rate))
        lengths.append(F.shape[1])
    if len(set(lengths)) > 1:
        raise InputError(
            f"{root}: planes have different numbers of frames ({lengths}); suite2p planes of one "
            "recording must have equal lengths (crop the longer planes to the shortest)"
        )
    if max(rates) - min(rates) > 1e-6 * max(rates):
        raise InputError(f"{root}: planes have different rates fs {rates}; pass fs explicitly")
    n_t = lengths[0]
    has_all_neu = all(n is not None for n in neuropil)
    return NeuralRecording(
        traces=np.concatenate(traces).astype(np.float32),
        times=start_time + np.arange(n_t) / rates[0],
        neuron=np.concatenate(neurons),
        plane=np.concatenate(planes),
        kind="F",
        source=root,
        neuropil=np.concatenate(neuropil).astype(np.float32) if has_all_neu else None,
        rate=rates[0],
    )


# ---------------------------------------------------------------------------------------------
# NWB
_NWB_KIND = {"DfOverF": "dff", "Fluorescence": "F"}


def _nwb_series(nwbfile: Any, path: Path, series: str | None) -> tuple[Any, str]:
    """The RoiResponseSeries to read and its kind; ``series`` picks one by name."""
    from pynwb.ophys import DfOverF, Fluorescence, RoiResponseSeries

    found: list[tuple[str, Any, str]] = []
    for module in nwbfile.processing.values():
        for iface in module.data_interfaces.values():
            if isinstance(iface, DfOverF | Fluorescence):
                kind = "dff" if isinstance(iface, DfOverF) else "F"
                for name, s in iface.roi_response_series.items():
                    found.append((name, s, kind))
            elif isinstance(iface, RoiResponseSeries):
                found.append((iface.name, iface, "F"))
    for obj in nwbfile.acquisition.values():
        if isinstance(obj, DfOverF | Fluorescence):
            kind = "dff" if isinstance(obj, DfOverF) else "F"
            found += [(n, s, kind) for n, s in obj.roi_response_series.items()]
        elif isinstance(obj, RoiResponseSeries):
            found.append((obj.name, obj, "F"))
    if not found:
        raise InputError(
            f"{path}: no Fluorescence, DfOverF or RoiResponseSeries in the file's processing "
            "modules or acquisition; export the ROI traces to NWB (e.g. with neuroconv)"
        )
    if series is not None:
        match = [f for f in found if f[0] == series]
        if not match:
            names = sorted({f[0] for f in found})
            raise InputError(f"{path}: no ROI series named {series!r}; the file has {names}")
        return match[0][1], match[0][2]
    dff = [f for f in found if f[2] == "dff"]
    pick = dff[0] if dff else found[0]
    return pick[1], pick[2]


def read_nwb(
    path: str | os.PathLike[str], *, series: str | None = None, kind: str | None = None
) -> NeuralRecording:
    """Read ROI traces from an NWB file with pynwb.

    Looks for ``DfOverF`` (preferred), ``Fluorescence`` or a bare ``RoiResponseSeries`` in the
    processing modules (e.g. ``ophys``) and in acquisition. Times from the series'
    ``timestamps`` or from ``starting_time + arange(n) / rate``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.nwb`` file.
    series : str or None, optional
        Name of the RoiResponseSeries to read (default: the first DfOverF series, else the
        first one found).
    kind : {"F", "dff"} or None, optional
        Override the trace kind (default: ``dff`` inside DfOverF, ``F`` otherwise).

    Returns
    -------
    NeuralRecording
        ``neuron`` = ROI ids of the plane segmentation rows, ``plane`` = index of the imaging
        plane (in order of the file's imaging planes).
    """
    from pynwb import NWBHDF5IO

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: NWB file not found; check `neural.path`")
    try:
        io = NWBHDF5IO(str(p), mode="r")
        nwbfile = io.read()
    except Exception as exc:  # noqa: BLE001 - h5py/hdmf raise many kinds
        raise InputError(f"{p}: not a readable NWB file ({type(exc).__name__}: {exc})") from None
    with io:
        s, found_kind = _nwb_series(nwbfile, p, series)
        data = np.asarray(s.data[:], dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        traces = data.T  # NWB stores (time, roi)
        n_t = traces.shape[1]
        if s.timestamps is not None:
            times = np.asarray(s.timestamps[:], dtype=np.float64)
            rate = float("nan")
        elif s.rate is not None:
            rate = float(s.rate)
            times = float(s.starting_time or 0.0) + np.arange(n_t) / rate
        else:
            raise InputError(f"{p}: series {s.name!r} has neither timestamps nor rate")
        rois = s.rois
        idx = np.asarray(rois.data[:], dtype=np.int64)
        table = rois.table
        try:
            ids = np.asarray(table.id[:], dtype=np.int64)[idx]
        except Exception:  # noqa: BLE001 - a table without ids: use the row indices
            ids = idx
        plane_names = list(nwbfile.imaging_planes)
        try:
            plane = plane_names.index(table.imaging_plane.name)
        except (AttributeError, ValueError):
            plane = 0
        return NeuralRecording(
            traces=traces,
            times=times,
            neuron=ids,
            plane=np.full(traces.shape[0], plane, dtype=np.int64),
            kind=kind or found_kind,
            source=p,
            rate=rate,
        )


# ---------------------------------------------------------------------------------------------
# plain table
def _neuron_ids(names: list[str]) -> np.ndarray:
    """Integer ids from column names (``"12"``, ``"n12"``, ``"roi_12"``), else positions."""
    nums = [re.search(r"(\d+)$", str(c)) for c in names]
    if all(nums):
        ids = np.array([int(m.group(1)) for m in nums if m], dtype=np.int64)
        if len(np.unique(ids)) == len(ids):
            return ids
    return np.arange(len(names), dtype=np.int64)


def read_table(
    path: str | os.PathLike[str], *, kind: str = "dff", time_column: str = "time"
) -> NeuralRecording:
    """Read a plain table: one ``time`` column (s, neural clock) and one column per neuron.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``, ``.tsv``/``.txt`` (tab-separated) or ``.parquet``.
    kind : {"dff", "F"}, optional
        What the neuron columns hold (default ``"dff"``).
    time_column : str, optional
        Name of the time column (default ``"time"``).

    Returns
    -------
    NeuralRecording
        ``neuron`` = the trailing integer of each column name (``n12`` -> 12) when they are
        unique, else the column position; ``plane`` = 0.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: neural table not found; check `neural.path`")
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(p)
        elif suffix in (".tsv", ".txt"):
            df = pd.read_csv(p, sep="\t")
        else:
            df = pd.read_csv(p)
    except Exception as exc:  # noqa: BLE001 - pandas/pyarrow raise many kinds
        raise InputError(f"{p}: not a readable table ({type(exc).__name__}: {exc})") from None
    if time_column not in df.columns:
        raise InputError(
            f"{p}: no {time_column!r} column (columns: {list(df.columns)[:8]}...); add the "
            "sample times in seconds as a column named 'time'"
        )
    cols = [c for c in df.columns if c != time_column]
    if not cols:
        raise InputError(f"{p}: no neuron columns besides {time_column!r}")
    values = df[cols].apply(pd.to_numeric, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        row, col = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(
            f"{p}: column {cols[col]!r} is empty, NaN or not a number at data row {row + 1}; "
            "fill or drop that neuron before running"
        )
    return NeuralRecording(
        traces=values.to_numpy(np.float32).T,
        times=pd.to_numeric(df[time_column], errors="coerce").to_numpy(np.float64),
        neuron=_neuron_ids([str(c) for c in cols]),
        plane=np.zeros(len(cols), dtype=np.int64),
        kind=kind,
        source=p,
    )


#: Format name -> reader (read-only).
READERS: Mapping[str, Reader] = MappingProxyType(
    {"suite2p": read_suite2p, "nwb": read_nwb, "table": read_table}
)


def guess_format(path: str | os.PathLike[str]) -> str:
    """Format name from the path: a folder is suite2p, ``.nwb`` NWB, else a table."""
    p = Path(path)
    if p.is_dir():
        return "suite2p"
    if p.suffix.lower() == ".nwb":
        return "nwb"
    if p.suffix.lower() in (".csv", ".tsv", ".txt", ".parquet"):
        return "table"
    raise InputError(
        f"{p}: cannot tell the neural format from the name; give format: suite2p, nwb or table"
    )


def read_neural(
    path: str | os.PathLike[str], *, format: str | None = None, **options: Any
) -> NeuralRecording:
    """Read a neural recording with the reader registered for ``format``.

    Parameters
    ----------
    path : str or os.PathLike
        File or folder.
    format : str or None, optional
        A key of :data:`READERS` (``suite2p``, ``nwb``, ``table``); default from the path
        (:func:`guess_format`).
    **options
        Passed to the reader (e.g. ``fs=`` for suite2p, ``series=`` for NWB).

    Returns
    -------
    NeuralRecording
    """
    name = format or guess_format(path)
    if name not in READERS:
        raise InputError(f"{path}: unknown neural format {name!r}; use one of {list(READERS)}")
    return READERS[name](path, **options)
