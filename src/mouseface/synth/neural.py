"""Synthetic two-photon imaging with ground truth for a synthetic face session.

From a session's per-frame ground truth (``truth/<session>.parquet``: ``time``, ``amp_<emotion>``)
and its trials, :func:`simulate_imaging` makes calcium traces of three kinds of neurons:

- *tuned*: Poisson spiking at ``0.2 Hz + 6 Hz x gain x amp_<emotion>(t)`` (one emotion each,
  round-robin over the emotions the session shows);
- *onset*: a 0.5-s burst of 8 Hz at every stimulus onset, whatever the emotion;
- *untuned*: baseline spiking plus bursts at random times;

plus a few non-cell ROIs (``iscell = 0``). Spikes are convolved with a calcium kernel (rise
50 ms, decay 0.5-1.0 s, 0.25 dF/F per spike). Raw fluorescence ``F = F0 * drift * (1 + dF/F) +
0.7 * Fneu`` with shot noise (sd proportional to sqrt(F)), a neuropil ``Fneu`` that carries the
population's mean activity, and slow drift (bleaching + a slow sine). Imaging runs at its own
rate on a second clock, ``video = offset + slope * neural`` (slope = 1 + drift ~1e-4), with a
sync-pulse table of TTL edges seen by both clocks (0.5 ms jitter). :func:`write_imaging` writes
a suite2p folder (``plane0/``, ``plane1/``, ...), the sync table and the truth.

:func:`face_frames` turns the same ground truth into a ``frames.parquet``-like table of face
traces (``change``, ``strength_<emotion>``, ``p_<class>``) with crosstalk between emotions and
noise, a stand-in for the face pipeline's output in tests that do not render video.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from mouseface.errors import InputError
from mouseface.io.outputs import atomic_path, write_parquet_atomic
from mouseface.synth.profiles import EMOTIONS

__all__ = [
    "ROLES",
    "SyntheticImaging",
    "add_neural_data",
    "face_frames",
    "score_tuned",
    "simulate_imaging",
    "write_imaging",
]

#: Neuron roles in the truth table.
ROLES = ("tuned", "onset", "untuned", "not_cell")
_NEUROPIL = 0.7  # true neuropil contamination coefficient (suite2p's default r)


@dataclass(frozen=True, eq=False)
class SyntheticImaging:
    """Synthetic imaging session.

    Attributes
    ----------
    F, Fneu : numpy.ndarray
        ``(n_rois, n_samples)`` float32 raw and neuropil fluorescence (a.u.).
    dff : numpy.ndarray
        ``(n_rois, n_samples)`` float32 the noise-free true dF/F.
    iscell : numpy.ndarray
        ``(n_rois,)`` bool.
    plane : numpy.ndarray
        ``(n_rois,)`` int64 imaging plane; ROIs of a plane are contiguous.
    rate : float
        Imaging rate, Hz (neural clock).
    neural_time : numpy.ndarray
        ``(n_samples,)`` sample times on the neural clock, ``i / rate``.
    offset, slope : float
        True clock map ``video = offset + slope * neural``.
    sync : pandas.DataFrame
        ``neural_time``, ``video_time`` of each TTL pulse (s).
    truth : pandas.DataFrame
        One row per ROI: ``plane``, ``neuron`` (index within its plane), ``iscell``, ``role``
        (:data:`ROLES`), ``emotion`` (tuned: its emotion, else ``""``), ``gain``.
    """

    F: np.ndarray
    Fneu: np.ndarray
    dff: np.ndarray
    iscell: np.ndarray
    plane: np.ndarray
    rate: float
    neural_time: np.ndarray
    offset: float
    slope: float
    sync: pd.DataFrame
    truth: pd.DataFrame

    @property
    def video_time(self) -> np.ndarray:
        """``(n_samples,)`` true video-clock times of the imaging samples."""
        return self.offset + self.slope * self.neural_time


def _kernel(rate: float, decay: float, rise: float = 0.05) -> np.ndarray:
    t = np.arange(int(np.ceil(6 * decay * rate)) + 1) / rate
    k = (1 - np.exp(-t / rise)) * np.exp(-t / decay)
    return k / k.max()


def simulate_imaging(
    frames_truth: pd.DataFrame,
    trials: pd.DataFrame,
    *,
    rate: float = 15.0,
    n_neurons: int = 60,
    n_planes: int = 2,
    tuned: float = 0.4,
    onset: float = 0.15,
    n_not_cells: int = 4,
    offset: float = 1.5,
    drift: float = 1e-4,
    noise: float = 0.06,
    seed: int | np.random.Generator = 0,
) -> SyntheticImaging:
    """Calcium imaging of one synthetic session (see the module docstring for the model).

    Parameters
    ----------
    frames_truth : pandas.DataFrame
        ``truth/<session>.parquet``: ``time`` (s, video clock) and ``amp_<emotion>``.
    trials : pandas.DataFrame
        The session's trials: ``onset`` (s) and ``emotion``.
    rate : float, optional
        Imaging (volume) rate, Hz (default 15).
    n_neurons : int, optional
        Cells over all planes (default 60); plus ``n_not_cells`` non-cell ROIs.
    n_planes : int, optional
        Planes (default 2); cells are split evenly.
    tuned, onset : float, optional
        Fractions of emotion-tuned and onset-only cells (default 0.4, 0.15); the rest untuned.
    n_not_cells : int, optional
        ROIs with ``iscell = 0`` (neuropil blobs), spread over the planes (default 4).
    offset : float, optional
        Video-clock time of the first imaging sample, seconds (default 1.5).
    drift : float, optional
        Clock drift: ``slope = 1 + drift`` (default 1e-4).
    noise : float, optional
        Shot-noise sd as a fraction of the baseline fluorescence (default 0.06).
    seed : int or numpy.random.Generator, optional
        Random source.

    Returns
    -------
    SyntheticImaging
    """
    rng = np.random.default_rng(seed)
    slope = 1.0 + drift
    video_end = float(frames_truth["time"].iloc[-1])
    n_t = int(np.floor((video_end - offset - 0.5) / slope * rate))
    t_n = np.arange(n_t) / rate
    t_v = offset + slope * t_n
    dt = 1.0 / rate
    ft = frames_truth["time"].to_numpy(np.float64)
    present = [e for e in EMOTIONS[1:] if e in set(trials["emotion"])]
    amp = {e: np.interp(t_v, ft, frames_truth[f"amp_{e}"].to_numpy(np.float64)) for e in present}
    n_tuned = int(round(tuned * n_neurons))
    n_onset = int(round(onset * n_neurons))
    roles = ["tuned"] * n_tuned + ["onset"] * n_onset
    roles += ["untuned"] * (n_neurons - n_tuned - n_onset)
    roles = [roles[i] for i in rng.permutation(len(roles))] + ["not_cell"] * n_not_cells
    n_roi = len(roles)
    onsets = trials["onset"].to_numpy(np.float64)
    burst = np.zeros(n_t)
    for o in onsets:
        burst[(t_v >= o) & (t_v < o + 0.5)] = 1.0
    spikes = np.zeros((n_roi, n_t))
    emotion, gain = [""] * n_roi, np.zeros(n_roi)
    k_tuned = 0
    for i, role in enumerate(roles):
        lam = np.full(n_t, 0.2)
        if role == "tuned":
            emotion[i] = present[k_tuned % len(present)]
            k_tuned += 1
            gain[i] = rng.uniform(0.7, 1.3)
            lam = lam + 6.0 * gain[i] * np.clip(amp[emotion[i]], 0.0, None)
        elif role == "onset":
            gain[i] = rng.uniform(0.7, 1.3)
            lam = lam + 8.0 * gain[i] * burst
        elif role == "untuned":
            for s in rng.uniform(0, t_v[-1], rng.poisson(t_v[-1] / 30.0)):
                lam[(t_v >= s) & (t_v < s + rng.uniform(0.3, 1.0))] += 6.0
        if role != "not_cell":
            spikes[i] = rng.poisson(lam * dt)
    dff = np.zeros((n_roi, n_t))
    for i in range(n_roi):
        k = _kernel(rate, rng.uniform(0.5, 1.0))
        dff[i] = 0.25 * lfilter(k, [1.0], spikes[i])
    # neuropil: a local background carrying the population's mean activity (cells only)
    pop = dff[np.asarray(roles) != "not_cell"].mean(axis=0)
    n0 = rng.uniform(150, 250, n_roi)[:, None]
    slow = 1 + 0.05 * np.sin(2 * np.pi * t_n / rng.uniform(60, 200) + rng.uniform(0, 6.3))
    Fneu = n0 * (1 + 1.5 * pop[None, :]) * slow[None, :]
    Fneu = Fneu + rng.normal(0.0, 0.02, Fneu.shape) * n0
    f0 = rng.uniform(300, 700, n_roi)[:, None]
    bleach = np.exp(-t_n / rng.uniform(1500, 3000, n_roi)[:, None])
    cell_part = f0 * bleach * slow[None, :] * (1 + dff)
    cell_part[np.asarray(roles) == "not_cell"] = 0.0
    F_true = cell_part + _NEUROPIL * Fneu
    F = F_true + rng.standard_normal(F_true.shape) * noise * np.sqrt(f0 * F_true)
    # sync pulses: irregular TTL edges (0.7-1.3 s apart) seen by both clocks
    pulses_v = offset + np.cumsum(rng.uniform(0.7, 1.3, int(t_v[-1] - offset) + 2))
    pulses_v = pulses_v[pulses_v < t_v[-1]]
    sync = pd.DataFrame(
        {
            "neural_time": (pulses_v - offset) / slope + rng.normal(0, 5e-4, len(pulses_v)),
            "video_time": pulses_v + rng.normal(0, 5e-4, len(pulses_v)),
        }
    )
    plane = np.zeros(n_roi, np.int64)
    cells = np.flatnonzero(np.asarray(roles) != "not_cell")
    for k, chunk in enumerate(np.array_split(cells, n_planes)):
        plane[chunk] = k
    plane[np.asarray(roles) == "not_cell"] = np.arange(n_not_cells) % n_planes
    order = np.argsort(plane, kind="stable")
    neuron = np.zeros(n_roi, np.int64)
    for k in range(n_planes):
        idx = order[plane[order] == k]
        neuron[idx] = np.arange(len(idx))
    truth = pd.DataFrame(
        {
            "plane": plane,
            "neuron": neuron,
            "iscell": np.asarray(roles) != "not_cell",
            "role": roles,
            "emotion": emotion,
            "gain": gain,
        }
    ).iloc[order]
    return SyntheticImaging(
        F=F[order].astype(np.float32),
        Fneu=Fneu[order].astype(np.float32),
        dff=dff[order].astype(np.float32),
        iscell=(np.asarray(roles) != "not_cell")[order],
        plane=plane[order],
        rate=float(rate),
        neural_time=t_n,
        offset=float(offset),
        slope=float(slope),
        sync=sync,
        truth=truth.reset_index(drop=True),
    )


def _save_npy(path: Path, arr: np.ndarray | dict) -> None:
    with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, arr, allow_pickle=isinstance(arr, dict))


def write_imaging(out: str | os.PathLike[str], session: str, im: SyntheticImaging) -> dict:
    """Write a synthetic imaging session as a user would bring it.

    Layout::

        out/neural/<session>/suite2p/plane<k>/{F,Fneu,iscell,ops}.npy
        out/neural/<session>/sync.tsv          neural_time, video_time (s), one row per pulse
        out/truth/neurons_<session>.parquet    per ROI: plane, neuron, iscell, role, emotion, gain

    ``ops.npy`` is, as in suite2p, a numpy-pickled dict; here it holds only ``fs`` and
    ``nplanes`` (needed for format fidelity: suite2p readers expect it).

    Returns
    -------
    dict
        ``{"suite2p": Path, "sync": Path, "truth": Path}``.
    """
    root = Path(out)
    s2p = root / "neural" / session / "suite2p"
    for k in np.unique(im.plane):
        d = s2p / f"plane{int(k)}"
        d.mkdir(parents=True, exist_ok=True)
        m = im.plane == k
        _save_npy(d / "F.npy", im.F[m])
        _save_npy(d / "Fneu.npy", im.Fneu[m])
        iscell = np.stack([im.iscell[m].astype(np.float64), im.iscell[m] * 0.9 + 0.05], axis=1)
        _save_npy(d / "iscell.npy", iscell)
        _save_npy(d / "ops.npy", {"fs": im.rate, "nplanes": int(len(np.unique(im.plane)))})
    sync_path = root / "neural" / session / "sync.tsv"
    with atomic_path(sync_path) as tmp:
        im.sync.to_csv(tmp, sep="\t", index=False, float_format="%.6f")
    truth_path = write_parquet_atomic(root / "truth" / f"neurons_{session}.parquet", im.truth)
    return {"suite2p": s2p, "sync": sync_path, "truth": Path(truth_path)}


def face_frames(
    frames_truth: pd.DataFrame,
    *,
    crosstalk: float = 0.3,
    noise: float = 0.03,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """A ``frames.parquet``-like table of face traces made from the ground truth.

    ``strength_<e> = 0.5 * (amp_e + crosstalk * sum of the other amplitudes) + noise`` (the
    face pipeline's prototypes all rise somewhat with any expression), ``change = 0.3 * total
    amplitude + noise``, and ``p_<class>`` a softmax of ``4 * amp`` with ``neutral`` at 0.1
    (decoder-like probabilities). Noise: Gaussian, sd ``noise``, smoothed over ~3 frames.

    Parameters
    ----------
    frames_truth : pandas.DataFrame
        ``truth/<session>.parquet`` (``frame``, ``time``, ``amp_<emotion>``).
    crosstalk : float, optional
        Share of the other emotions' amplitude in each strength (default 0.3).
    noise : float, optional
        Noise sd (default 0.03).
    seed : int or numpy.random.Generator, optional
        Random source.

    Returns
    -------
    pandas.DataFrame
        ``frame``, ``time``, ``change``, ``strength_<emotion>`` (6 emotions), ``p_<class>``
        (7 classes incl. neutral), ``predicted``.
    """
    rng = np.random.default_rng(seed)
    emos = list(EMOTIONS[1:])
    amp = frames_truth[[f"amp_{e}" for e in emos]].to_numpy(np.float64)
    n = len(amp)
    total = amp.sum(axis=1)

    def smooth_noise(size: tuple[int, ...]) -> np.ndarray:
        w = rng.normal(0.0, noise * np.sqrt(3), size)
        return lfilter(np.ones(3) / 3, [1.0], w, axis=0)

    out = {"frame": frames_truth["frame"].to_numpy(), "time": frames_truth["time"].to_numpy()}
    out["change"] = 0.3 * total + smooth_noise((n,))
    strength = 0.5 * (amp + crosstalk * (total[:, None] - amp)) + smooth_noise((n, len(emos)))
    for j, e in enumerate(emos):
        out[f"strength_{e}"] = strength[:, j]
    logits = np.column_stack([np.full(n, 0.4), 4.0 * amp]) + smooth_noise((n, len(emos) + 1))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for j, e in enumerate(EMOTIONS):
        out[f"p_{e}"] = p[:, j]
    out["predicted"] = np.asarray(EMOTIONS, dtype=object)[np.argmax(p, axis=1)]
    return pd.DataFrame(out)


def add_neural_data(
    out: str | os.PathLike[str],
    *,
    sessions: list[str] | None = None,
    seed: int = 0,
    **options: float,
) -> dict[str, dict[str, str]]:
    """Add simulated imaging to sessions of a dataset written by
    :func:`mouseface.synth.generate_dataset`.

    Reads ``truth/<session>.parquet`` and ``truth/trials.parquet`` and writes, per session,
    what :func:`write_imaging` writes. ``mouseface.yaml`` is not changed: the returned entries
    are what each session's ``neural:`` key should hold.

    Parameters
    ----------
    out : str or os.PathLike
        The dataset folder.
    sessions : list of str or None, optional
        Sessions to image (default: the first session of every animal).
    seed : int, optional
        Seed; session ``i`` (in ``truth/trials.parquet`` order) uses ``[seed, i]``.
    **options
        Passed to :func:`simulate_imaging` (``rate``, ``n_neurons``, ``n_planes``, ...).

    Returns
    -------
    dict
        ``{session: {"path": "neural/<id>/suite2p", "format": "suite2p", "sync":
        "neural/<id>/sync.tsv"}}``, paths relative to ``out``.
    """
    root = Path(out)
    trials = pd.read_parquet(root / "truth" / "trials.parquet")
    order = list(dict.fromkeys(trials["session"]))
    if sessions is None:
        first = trials.drop_duplicates("animal")["session"]
        sessions = [s for s in order if s in set(first)]
    entries = {}
    for s in sessions:
        if s not in order:
            raise InputError(f"add_neural_data: no session {s!r} in {root / 'truth'}")
        truth = pd.read_parquet(root / "truth" / f"{s}.parquet")
        rng = np.random.default_rng([seed, order.index(s)])
        im = simulate_imaging(truth, trials[trials["session"] == s], seed=rng, **options)
        write_imaging(root, s, im)
        entries[s] = {
            "path": f"neural/{s}/suite2p",
            "format": "suite2p",
            "sync": f"neural/{s}/sync.tsv",
        }
    return entries


def score_tuned(neurons: pd.DataFrame, truth: str | os.PathLike[str]) -> dict[str, float]:
    """False discovery proportion and power of the ``tuned`` calls against the ground truth.

    Parameters
    ----------
    neurons : pandas.DataFrame
        ``neurons.parquet`` rows (``session``, ``plane``, ``neuron``, ``emotion``, ``tuned``).
    truth : str or os.PathLike
        The dataset's ``truth/`` folder (``neurons_<session>.parquet`` per imaged session).

    Returns
    -------
    dict
        ``n_true`` (neuron x emotion pairs the generator tuned), ``n_found`` (rows called
        tuned), ``fdp`` (found but not truly tuned to that emotion / found; 0 when none found)
        and ``power`` (truly tuned and found / truly tuned).

    Raises
    ------
    mouseface.errors.InputError
        When a session's truth file is missing or a row has no truth row.
    """
    root = Path(truth)
    parts = []
    for s, rows in neurons.groupby("session", sort=False):
        path = root / f"neurons_{s}.parquet"
        if not path.is_file():
            raise InputError(f"score_tuned: no ground truth {path} for session {s!r}")
        t = pd.read_parquet(path)
        t = t[t["iscell"]][["plane", "neuron", "role", "emotion"]]
        m = rows.merge(t, on=["plane", "neuron"], how="left", suffixes=("", "_true"))
        if m["role"].isna().any():
            raise InputError(f"score_tuned: neurons of session {s!r} missing from {path}")
        parts.append(m)
    m = pd.concat(parts, ignore_index=True)
    true = ((m["role"] == "tuned") & (m["emotion"] == m["emotion_true"])).to_numpy()
    found = m["tuned"].to_numpy(bool)
    n_found = int(found.sum())
    return {
        "n_true": int(true.sum()),
        "n_found": n_found,
        "fdp": float((found & ~true).sum() / n_found) if n_found else 0.0,
        "power": float((found & true).sum() / true.sum()) if true.any() else float("nan"),
    }
