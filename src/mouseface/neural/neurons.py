"""Which neurons follow which emotion: the ``neurons.parquet`` table and the session bundle
(correlations with shuffle p and BH q, selectivity, PSTHs, population decoding, agreement)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.neural.align import align_face
from mouseface.neural.clocks import check_overlap
from mouseface.neural.correlation import bh_q, shuffle_correlation
from mouseface.neural.decoding import Agreement, NeuralDecoding, agreement, decode_emotion
from mouseface.neural.indicator import GCAMP6S_DECAY, calcium_regressor
from mouseface.neural.recording import NeuralRecording
from mouseface.neural.responses import Psth, psth, selectivity, trial_responses

__all__ = [
    "NEURON_COLUMNS",
    "neurons_table",
    "NeuronAnalysis",
    "analyse_neurons",
    "heatmap_order",
    "example_neurons",
]

#: Columns of ``neurons.parquet`` (one row per neuron and emotion).
NEURON_COLUMNS = (
    "session",
    "neuron",
    "plane",
    "emotion",
    "r",
    "p",
    "q",
    "significant",
    "selectivity",
    "preferred_emotion",
    "tuned",
)


def _emotions(frames: pd.DataFrame, emotions: list[str] | None, source: str) -> list[str]:
    have = [c[len("strength_") :] for c in frames.columns if str(c).startswith("strength_")]
    if emotions is None:
        emotions = [e for e in have if e != "neutral"]
    missing = [e for e in emotions if e not in have]
    if missing or not emotions:
        raise InputError(
            f"{source}: no strength_<emotion> column for {missing or 'any emotion'}; run the face "
            "analysis (frames.parquet) before the neural statistics"
        )
    return list(emotions)


def _check_dff(rec: NeuralRecording) -> None:
    if rec.kind != "dff":
        raise InputError(
            f"{rec.source}: neuron statistics need dF/F; convert raw F first "
            "(mouseface.neural.dff.recording_dff)"
        )


def neurons_table(
    rec: NeuralRecording,
    frames: pd.DataFrame,
    trials: pd.DataFrame,
    *,
    session: str,
    emotions: list[str] | None = None,
    n_shuffles: int = 1000,
    min_shift: float = 5.0,
    max_autocorr: float | None = float(np.exp(-1.0)),
    drift_window: float | None = 60.0,
    indicator_decay: float = GCAMP6S_DECAY,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    min_selectivity: float = 0.5,
    baseline: tuple[float, float] = (-2.0, 0.0),
    response: tuple[float, float] = (0.0, 2.0),
    seed: int = 0,
) -> pd.DataFrame:
    """The ``neurons.parquet`` rows of one session: one per neuron and emotion.

    Parameters
    ----------
    rec : NeuralRecording
        dF/F with ``times`` on the video clock (:func:`mouseface.neural.clocks.to_video_clock`).
    frames : pandas.DataFrame
        The session's ``frames.parquet`` (``time``, ``strength_<emotion>``, ...).
    trials : pandas.DataFrame
        The session's trials (``onset`` s video clock, ``emotion``); used for selectivity.
    session : str
        Session id for the ``session`` column.
    emotions : list of str or None, optional
        Emotions to test (default every ``strength_<emotion>`` column except neutral).
    n_shuffles, min_shift, max_autocorr, drift_window, alternative, seed
        See :func:`mouseface.neural.correlation.shuffle_correlation`.
    indicator_decay : float, optional
        Decay time constant of the calcium indicator, seconds (default
        :data:`~mouseface.neural.indicator.GCAMP6S_DECAY`): each strength trace is convolved
        with this causal kernel before it is correlated with dF/F
        (:func:`mouseface.neural.indicator.calcium_regressor`); 0 correlates the raw strength.
    alpha : float, optional
        FDR level: ``significant = q <= alpha`` (default 0.05). q is Benjamini-Hochberg over
        all neuron x emotion tests of the session.
    min_selectivity : float, optional
        Smallest selectivity index of a ``tuned`` neuron (default 0.5).
    baseline, response : tuple of float, optional
        Trial windows (s from onset) of the selectivity responses.

    Raises
    ------
    mouseface.errors.InputError
        Raw F instead of dF/F, no strength columns, or imaging and video that do not overlap
        (:func:`mouseface.neural.clocks.check_overlap`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`NEURON_COLUMNS`: ``r`` Pearson r of dF/F with ``strength_<emotion>``
        resampled onto imaging times (no look-ahead) and convolved with the indicator kernel,
        ``p`` circular-shift p, ``q``, bool
        ``significant``, ``selectivity`` (:func:`~mouseface.neural.responses.selectivity`,
        NaN when the trials hold fewer than two emotions), ``preferred_emotion`` (largest
        mean trial response; largest r without trials of two emotions) and ``tuned``: the
        neuron follows this emotion specifically = ``significant`` and ``r > 0`` and
        ``emotion == preferred_emotion`` and ``selectivity >= min_selectivity``. A row can be
        significant without being tuned: a neuron that responds to every stimulus onset
        correlates with every strength trace, and a neuron tuned to one emotion correlates
        with the others' strength through the face's crosstalk.
    """
    _check_dff(rec)
    emos = _emotions(frames, emotions, f"frames of session {session}")
    check_overlap(rec.times, frames["time"].to_numpy(np.float64), source=str(rec.source))
    face = align_face(frames, rec.times, columns=[f"strength_{e}" for e in emos])
    regressor = calcium_regressor(
        face[[f"strength_{e}" for e in emos]].to_numpy(np.float64),
        rate=rec.rate,
        decay=indicator_decay,
    )
    corr = shuffle_correlation(
        rec.traces,
        regressor,
        rate=rec.rate,
        n_shuffles=n_shuffles,
        min_shift=min_shift,
        max_autocorr=max_autocorr,
        drift_window=drift_window,
        alternative=alternative,
        seed=seed,
    )
    q = bh_q(corr.p)
    tr = trials[trials["emotion"].isin(emos)] if "emotion" in trials.columns else trials.iloc[:0]
    if len(tr) and tr["emotion"].nunique() >= 2:
        resp = trial_responses(
            rec.traces, rec.times, tr["onset"].to_numpy(), baseline=baseline, response=response
        )
        si, pref = selectivity(resp, tr["emotion"].tolist())
    else:
        si = np.full(rec.n_neurons, np.nan)
        pref = np.asarray(emos, dtype=object)[np.argmax(corr.r, axis=1)]
    n, m = corr.r.shape
    sig = q <= alpha
    is_pref = np.asarray(emos, dtype=object)[None, :] == np.asarray(pref, dtype=object)[:, None]
    selective = np.isnan(si) | (si >= min_selectivity)
    tuned = sig & (corr.r > 0) & is_pref & selective[:, None]
    return pd.DataFrame(
        {
            "session": np.repeat(session, n * m),
            "neuron": np.repeat(rec.neuron, m),
            "plane": np.repeat(rec.plane, m),
            "emotion": np.tile(np.asarray(emos, dtype=object), n),
            "r": corr.r.ravel(),
            "p": corr.p.ravel(),
            "q": q.ravel(),
            "significant": sig.ravel(),
            "selectivity": np.repeat(si, m),
            "preferred_emotion": np.repeat(pref, m).astype(str),
            "tuned": tuned.ravel(),
        },
        columns=list(NEURON_COLUMNS),
    )


@dataclass(frozen=True, eq=False)
class NeuronAnalysis:
    """Everything the report shows about one imaging session's neurons.

    Attributes
    ----------
    table : pandas.DataFrame
        ``neurons.parquet`` rows (:func:`neurons_table`).
    psth : Psth
        Stimulus-locked dF/F per emotion with bootstrap intervals.
    responses : numpy.ndarray
        ``(n_trials, n_neurons)`` per-trial responses (response minus baseline window).
    trials : pandas.DataFrame
        The trials used (with ``onset_sample``), in the order of ``responses``' rows, with
        ``neural_predicted`` (the population decoder's held-out prediction) when decoded.
    decoding : NeuralDecoding or None
        Population decoding (None when fewer than two emotions have >= 2 trials).
    agreement : Agreement or None
        Face vs neural decoder per trial (None without a ``predicted`` column in the trials).
    """

    table: pd.DataFrame
    psth: Psth
    responses: np.ndarray
    trials: pd.DataFrame
    decoding: NeuralDecoding | None
    agreement: Agreement | None


def analyse_neurons(
    rec: NeuralRecording,
    frames: pd.DataFrame,
    trials: pd.DataFrame,
    *,
    session: str,
    emotions: list[str] | None = None,
    n_shuffles: int = 1000,
    min_shift: float = 5.0,
    max_autocorr: float | None = float(np.exp(-1.0)),
    drift_window: float | None = 60.0,
    indicator_decay: float = GCAMP6S_DECAY,
    alpha: float = 0.05,
    baseline: tuple[float, float] = (-2.0, 0.0),
    response: tuple[float, float] = (0.0, 2.0),
    psth_window: tuple[float, float] = (-2.0, 6.0),
    n_boot: int = 1000,
    n_permutations: int = 100,
    seed: int = 0,
) -> NeuronAnalysis:
    """:func:`neurons_table` plus PSTHs, population decoding and face-neural agreement.

    Parameters are those of :func:`neurons_table`, and ``psth_window`` (s around onset),
    ``n_boot`` (PSTH bootstrap), ``n_permutations`` (decoding chance). The trials must have
    ``onset`` and ``emotion``; a ``predicted`` column (the face decoder's trial prediction)
    enables the agreement.
    """
    table = neurons_table(
        rec,
        frames,
        trials,
        session=session,
        emotions=emotions,
        n_shuffles=n_shuffles,
        min_shift=min_shift,
        max_autocorr=max_autocorr,
        drift_window=drift_window,
        indicator_decay=indicator_decay,
        alpha=alpha,
        baseline=baseline,
        response=response,
        seed=seed,
    )
    emos = list(dict.fromkeys(table["emotion"]))
    missing = [c for c in ("onset", "emotion") if c not in trials.columns]
    if missing:
        raise InputError(
            f"trials of session {session}: missing column(s) {missing}; the trial table needs "
            "onset (s, video clock) and emotion"
        )
    t0, t1 = float(rec.times[0]), float(rec.times[-1])
    on = trials["onset"].to_numpy(np.float64)
    inside = (on + baseline[0] >= t0) & (on + response[1] <= t1) & trials["emotion"].isin(emos)
    tr = trials[inside].reset_index(drop=True)
    onset_sample = np.searchsorted(rec.times, tr["onset"].to_numpy(np.float64), side="left")
    tr = tr.assign(onset_sample=onset_sample.astype(np.int64))
    resp = trial_responses(
        rec.traces, rec.times, tr["onset"].to_numpy(), baseline=baseline, response=response
    )
    ps = psth(
        rec.traces,
        rec.times,
        tr["onset"].to_numpy(),
        tr["emotion"].tolist(),
        window=psth_window,
        baseline=baseline,
        n_boot=n_boot,
        seed=seed,
    )
    counts = tr["emotion"].value_counts()
    usable = counts[counts >= 2].index
    dec: NeuralDecoding | None = None
    agr: Agreement | None = None
    if len(usable) >= 2:
        use = tr["emotion"].isin(usable).to_numpy()
        dec = decode_emotion(
            resp[use], tr["emotion"][use].tolist(), n_permutations=n_permutations, seed=seed
        )
        pred = np.full(len(tr), None, dtype=object)
        pred[use] = dec.predicted
        tr = tr.assign(neural_predicted=pred)
        if "predicted" in tr.columns:
            agr = agreement(tr["predicted"][use].tolist(), dec.predicted.tolist())
    return NeuronAnalysis(table, ps, resp, tr, dec, agr)


def heatmap_order(table: pd.DataFrame) -> pd.DataFrame:
    """Neurons in heatmap order: grouped by preferred emotion (in the table's emotion order),
    most selective first within a group.

    Parameters
    ----------
    table : pandas.DataFrame
        ``neurons.parquet`` rows of one session.

    Returns
    -------
    pandas.DataFrame
        One row per neuron: ``plane``, ``neuron``, ``preferred_emotion``, ``selectivity``,
        ``n_tuned`` (emotions it is tuned to), in display order (row index = position).
    """
    emos = list(dict.fromkeys(table["emotion"]))
    per = table.groupby(["plane", "neuron"], sort=False).agg(
        preferred_emotion=("preferred_emotion", "first"),
        selectivity=("selectivity", "first"),
        n_tuned=("tuned", "sum"),
    )
    per = per.reset_index()
    rank = {e: i for i, e in enumerate(emos)}
    per["_g"] = per["preferred_emotion"].map(rank).fillna(len(emos))
    per["_s"] = -per["selectivity"].fillna(0.0)
    return (
        per.sort_values(["_g", "_s", "plane", "neuron"])
        .drop(columns=["_g", "_s"])
        .reset_index(drop=True)
    )


def example_neurons(table: pd.DataFrame, *, per_emotion: int = 1) -> pd.DataFrame:
    """The tuned neurons with the largest r for each emotion (for example traces drawn with
    the face strength over them).

    Returns
    -------
    pandas.DataFrame
        Up to ``per_emotion`` ``neurons.parquet`` rows per emotion, tuned only, largest r first.
    """
    tuned = table[table["tuned"]].sort_values("r", ascending=False)
    return tuned.groupby("emotion", sort=False).head(per_emotion).reset_index(drop=True)
