"""Pipeline steps for neural recordings and optogenetics: ``neurons.parquet``, ``opto.parquet``.

They run after the face is read (frames and trials written, decoder predictions in place), so the
neurons are related to the same strength traces and trial predictions a user sees:

- :func:`neural_session`: the session's recording on the video clock as dF/F
  (:func:`mouseface.neural.prepare.prepare_recording`), then per neuron and emotion the
  correlation with the strength trace (circular-shift shuffles, Benjamini-Hochberg), PSTHs,
  selectivity, population decoding and agreement with the face decoder
  (:func:`mouseface.neural.neurons.analyse_neurons`);
- :func:`opto_session`: strength of every prototype in laser epochs against matched baseline and
  sham epochs, the evoked emotion, dose-response (:func:`mouseface.neural.opto.opto_table`), and
  the laser-locked strength for the report.

Tables written (tidy, one file each for the whole project): ``neurons.parquet`` (session, neuron,
plane, emotion, r, p, q, significant, selectivity, ...), ``neurons_psth.parquet`` (session,
neuron, plane, emotion, lag, mean, low, high), ``neurons_examples.parquet`` (dF/F of the example
neurons with the face strength they follow, on the imaging clock), ``neurons_decoding.parquet``
(population decoder and face-neural agreement per session), ``opto.parquet`` and
``opto_locked.parquet`` (session, target, emotion, lag, mean, low, high).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.io.config import ProjectConfig
from mouseface.io.outputs import write_parquet_atomic
from mouseface.neural.align import align_face
from mouseface.neural.neurons import NeuronAnalysis, analyse_neurons, example_neurons
from mouseface.neural.opto import laser_locked, opto_table
from mouseface.neural.prepare import prepare_recording
from mouseface.neural.responses import Psth
from mouseface.pipeline.session import SessionInputs

__all__ = ["NeuralResult", "neural_session", "opto_session", "write_neural", "write_opto"]


@dataclass(frozen=True)
class NeuralResult:
    """One imaging session's neuron analysis and the tables the report draws from."""

    session: str
    analysis: NeuronAnalysis
    psth: pd.DataFrame
    examples: pd.DataFrame
    decoding: dict
    provenance: dict


def _psth_table(p: Psth, *, session: str, neurons: np.ndarray, planes: np.ndarray, what: str):
    """A :class:`Psth` as a tidy table (one row per emotion/target, unit and lag)."""
    e, u, k = p.mean.shape
    return pd.DataFrame(
        {
            "session": session,
            what: np.repeat(np.asarray(p.emotions, dtype=object), u * k),
            "neuron": np.tile(np.repeat(neurons, k), e),
            "plane": np.tile(np.repeat(planes, k), e),
            "lag": np.tile(p.lags, e * u),
            "mean": p.mean.ravel(),
            "low": p.low.ravel(),
            "high": p.high.ravel(),
        }
    )


def neural_session(
    s: SessionInputs,
    frames: pd.DataFrame,
    trials: pd.DataFrame,
    cfg: ProjectConfig,
    *,
    n_shuffles: int = 1000,
    n_permutations: int = 100,
) -> NeuralResult:
    """Relate one session's neurons to its face (see the module docstring).

    Parameters
    ----------
    s : SessionInputs
        The session (its config holds ``neural``).
    frames : DataFrame
        The session's ``frames.parquet`` (time on the video clock, ``strength_<e>``,
        ``p_<class>`` when the decoder wrote them).
    trials : DataFrame
        The session's rows of ``trials.parquet``.
    cfg : ProjectConfig
        For the trial windows.
    n_shuffles, n_permutations : int
        Circular-shift shuffles per neuron and emotion; label permutations of the population
        decoder.

    Returns
    -------
    NeuralResult
    """
    nc = s.cfg.neural
    prep = prepare_recording(
        nc.path,
        format=nc.format,
        sync=nc.sync,
        rate=nc.rate,
        offset=nc.offset,
        video_times=frames["time"].to_numpy(float),
        neuropil=nc.neuropil,
        baseline_window=nc.baseline_window,
        baseline_percentile=nc.baseline_percentile,
        # the session's NWB file: imaging and video share the NWB clock, whose origin is not
        # the first video frame
        time_origin=s.nwb.neural_origin if s.nwb is not None else None,
    )
    rec = prep.recording
    w = cfg.windows
    res = analyse_neurons(
        rec,
        frames,
        trials,
        session=s.id,
        baseline=tuple(w.baseline),
        response=tuple(w.response),
        n_shuffles=n_shuffles,
        n_permutations=n_permutations,
        indicator_decay=nc.indicator_decay,
        drift_window=nc.drift_window,
    )
    neurons = np.asarray(rec.neuron)
    planes = np.asarray(rec.plane)
    psth = _psth_table(res.psth, session=s.id, neurons=neurons, planes=planes, what="emotion")
    return NeuralResult(
        session=s.id,
        analysis=res,
        psth=psth,
        examples=_examples(rec, frames, res.table, session=s.id),
        decoding=_decoding_row(res, session=s.id),
        provenance=prep.provenance(),
    )


def _examples(rec, frames: pd.DataFrame, table: pd.DataFrame, *, session: str) -> pd.DataFrame:
    """dF/F of the example neurons and the face strength they follow, on the imaging clock."""
    ex = example_neurons(table)
    if ex.empty:
        return pd.DataFrame(columns=["session", "neuron", "plane", "emotion", "time", "dff"])
    face = align_face(frames, rec.times)
    index = {
        (int(p), int(n)): i for i, (p, n) in enumerate(zip(rec.plane, rec.neuron, strict=True))
    }
    parts = []
    for _, row in ex.iterrows():
        i = index[(int(row["plane"]), int(row["neuron"]))]
        parts.append(
            pd.DataFrame(
                {
                    "session": session,
                    "neuron": int(row["neuron"]),
                    "plane": int(row["plane"]),
                    "emotion": row["emotion"],
                    "r": float(row["r"]),
                    "time": rec.times,
                    "dff": rec.traces[i],
                    "strength": face[f"strength_{row['emotion']}"].to_numpy(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _decoding_row(res: NeuronAnalysis, *, session: str) -> dict:
    row: dict = {
        "session": session,
        "neural_balanced_accuracy": np.nan,
        "neural_chance": np.nan,
        "neural_p": np.nan,
        "neural_cv": None,
        "agreement_fraction": np.nan,
        "agreement_kappa": np.nan,
        "agreement_n_trials": 0,
    }
    d = res.decoding
    if d is not None:
        row |= {
            "neural_balanced_accuracy": float(d.balanced_accuracy),
            "neural_chance": float(d.chance),
            "neural_p": float(d.p),
            "neural_cv": str(d.cv),
        }
    a = res.agreement
    if a is not None:
        row |= {
            "agreement_fraction": float(a.fraction),
            "agreement_kappa": float(a.kappa),
            "agreement_n_trials": int(a.n_trials),
        }
    return row


def write_neural(results: list[NeuralResult], out: Path) -> None:
    """Write the project's neural tables (see the module docstring)."""
    if not results:
        return
    write_parquet_atomic(
        out / "neurons.parquet", pd.concat([r.analysis.table for r in results], ignore_index=True)
    )
    write_parquet_atomic(
        out / "neurons_psth.parquet", pd.concat([r.psth for r in results], ignore_index=True)
    )
    write_parquet_atomic(
        out / "neurons_examples.parquet",
        pd.concat([r.examples for r in results], ignore_index=True),
    )
    write_parquet_atomic(
        out / "neurons_decoding.parquet", pd.DataFrame([r.decoding for r in results])
    )


def opto_session(s: SessionInputs, frames: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One optogenetics session: its ``opto.parquet`` rows and laser-locked strength.

    Parameters
    ----------
    s : SessionInputs
        The session (``laser`` holds its checked laser table).
    frames : DataFrame
        The session's ``frames.parquet``.

    Returns
    -------
    table : DataFrame
        :func:`mouseface.neural.opto.opto_table` rows.
    locked : DataFrame
        session, target, emotion, lag, mean, low, high: strength of each prototype around laser
        onsets, baseline-subtracted.
    """
    table = opto_table(frames, s.laser, session=s.id, source=str(s.cfg.opto))
    p = laser_locked(frames, s.laser)
    e, u, k = p.mean.shape
    protos = [c.removeprefix("strength_") for c in frames.columns if c.startswith("strength_")]
    protos = [c for c in protos if c != "neutral"][:u]
    locked = pd.DataFrame(
        {
            "session": s.id,
            "target": np.repeat(np.asarray(p.emotions, dtype=object), u * k),
            "emotion": np.tile(np.repeat(np.asarray(protos, dtype=object), k), e),
            "lag": np.tile(p.lags, e * u),
            "mean": p.mean.ravel(),
            "low": p.low.ravel(),
            "high": p.high.ravel(),
        }
    )
    return table, locked


def write_opto(tables: list[pd.DataFrame], locked: list[pd.DataFrame], out: Path) -> None:
    """Write ``opto.parquet`` and ``opto_locked.parquet``."""
    if not tables:
        return
    write_parquet_atomic(out / "opto.parquet", pd.concat(tables, ignore_index=True))
    write_parquet_atomic(out / "opto_locked.parquet", pd.concat(locked, ignore_index=True))
