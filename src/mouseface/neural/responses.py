"""Stimulus-locked neural responses: per-trial window means, PSTHs with bootstrap intervals,
and a selectivity index per neuron."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mouseface.errors import InputError

__all__ = ["sample_locked", "trial_responses", "Psth", "psth", "selectivity"]


def sample_locked(
    traces: np.ndarray, times: np.ndarray, onsets: np.ndarray, lags: np.ndarray
) -> np.ndarray:
    """Traces linearly interpolated at ``onset + lag`` for every trial and lag.

    Parameters
    ----------
    traces : numpy.ndarray
        ``(n_neurons, n_samples)`` traces.
    times : numpy.ndarray
        ``(n_samples,)`` sample times (video clock), seconds.
    onsets : numpy.ndarray
        ``(n_trials,)`` onsets, seconds.
    lags : numpy.ndarray
        ``(n_lags,)`` times relative to onset, seconds.

    Returns
    -------
    numpy.ndarray
        ``(n_trials, n_neurons, n_lags)`` float64; NaN where ``onset + lag`` lies outside
        ``times``.
    """
    x = np.asarray(traces, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    at = np.asarray(onsets, dtype=np.float64)[:, None] + np.asarray(lags)[None, :]
    pos = np.interp(at, t, np.arange(len(t), dtype=np.float64))
    lo = np.clip(np.floor(pos).astype(np.int64), 0, len(t) - 1)
    hi = np.clip(lo + 1, 0, len(t) - 1)
    w = pos - lo
    out = x[:, lo] * (1 - w) + x[:, hi] * w  # (n_neurons, n_trials, n_lags)
    outside = (at < t[0]) | (at > t[-1])
    out[:, outside] = np.nan
    return np.transpose(out, (1, 0, 2))


def trial_responses(
    traces: np.ndarray,
    times: np.ndarray,
    onsets: np.ndarray,
    *,
    baseline: tuple[float, float] = (-2.0, 0.0),
    response: tuple[float, float] = (0.0, 2.0),
) -> np.ndarray:
    """Mean of each neuron in the response window minus its mean in the baseline window.

    Parameters
    ----------
    traces : numpy.ndarray
        ``(n_neurons, n_samples)`` dF/F.
    times : numpy.ndarray
        ``(n_samples,)`` sample times on the video clock, seconds.
    onsets : numpy.ndarray
        ``(n_trials,)`` trial onsets, seconds.
    baseline, response : tuple of float, optional
        Windows relative to onset, seconds, half-open ``[a, b)`` (defaults -2..0 and 0..2 s).

    Returns
    -------
    numpy.ndarray
        ``(n_trials, n_neurons)`` float64; NaN for a trial whose windows hold no sample.
    """
    x = np.asarray(traces, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    cs = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)

    def window_mean(a: float, b: float) -> np.ndarray:
        on = np.asarray(onsets, dtype=np.float64)
        i0 = np.searchsorted(t, on + a, side="left")
        i1 = np.searchsorted(t, on + b, side="left")
        n = (i1 - i0).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = (cs[:, i1] - cs[:, i0]) / n
        m[:, n == 0] = np.nan
        return m.T

    return window_mean(*response) - window_mean(*baseline)


@dataclass(frozen=True, eq=False)
class Psth:
    """Stimulus-locked mean response per emotion with bootstrap intervals over trials.

    Attributes
    ----------
    lags : numpy.ndarray
        ``(n_lags,)`` seconds relative to onset.
    emotions : tuple of str
        Row labels of the first axis.
    mean, low, high : numpy.ndarray
        ``(n_emotions, n_neurons, n_lags)`` float32 baseline-subtracted mean dF/F and the
        bootstrap percentile interval.
    n_trials : numpy.ndarray
        ``(n_emotions,)`` int64 trials per emotion.
    level : float
        Interval level (e.g. 0.95).
    """

    lags: np.ndarray
    emotions: tuple[str, ...]
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_trials: np.ndarray
    level: float


def psth(
    traces: np.ndarray,
    times: np.ndarray,
    onsets: np.ndarray,
    labels: Sequence[str],
    *,
    window: tuple[float, float] = (-2.0, 6.0),
    step: float | None = None,
    baseline: tuple[float, float] = (-2.0, 0.0),
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    chunk: int = 64,
) -> Psth:
    """Peri-stimulus time histograms per emotion, with a trial bootstrap interval.

    Every trial is sampled at ``onset + lags`` (linear interpolation) and its baseline-window
    mean subtracted; the PSTH is the mean over the emotion's trials and the interval the
    ``level`` percentile interval of ``n_boot`` resamples of those trials (with replacement).

    Parameters
    ----------
    traces : numpy.ndarray
        ``(n_neurons, n_samples)`` dF/F.
    times : numpy.ndarray
        ``(n_samples,)`` sample times, video clock, seconds.
    onsets : numpy.ndarray
        ``(n_trials,)`` onsets, seconds.
    labels : sequence of str
        ``(n_trials,)`` emotion of each trial.
    window : tuple of float, optional
        Lags from/to, seconds (default -2..6).
    step : float or None, optional
        Lag step, seconds (default the median sample interval).
    baseline : tuple of float, optional
        Baseline window relative to onset (default -2..0).
    n_boot : int, optional
        Bootstrap resamples (default 1000).
    level : float, optional
        Interval level (default 0.95).
    seed : int, numpy.random.Generator or None, optional
        Random source.
    chunk : int, optional
        Neurons per bootstrap batch (bounds memory).

    Returns
    -------
    Psth
        Trials whose window leaves the imaging are dropped.
    """
    t = np.asarray(times, dtype=np.float64)
    if step is None:
        step = float(np.median(np.diff(t)))
    lags = np.arange(window[0], window[1] + step / 2, step)
    labels_arr = np.asarray(labels, dtype=object)
    onsets = np.asarray(onsets, dtype=np.float64)
    if len(onsets) != len(labels_arr):
        raise InputError("psth: one label per onset is needed")
    inside = (onsets + window[0] >= t[0]) & (onsets + window[1] <= t[-1])
    onsets, labels_arr = onsets[inside], labels_arr[inside]
    emotions = tuple(sorted(set(labels_arr.tolist())))
    x = sample_locked(traces, t, onsets, lags)  # (n_trials, n_neurons, n_lags)
    bmask = (lags >= baseline[0]) & (lags < baseline[1])
    if bmask.any():
        x = x - x[:, :, bmask].mean(axis=2, keepdims=True)
    rng = np.random.default_rng(seed)
    n_e, n_n, n_l = len(emotions), x.shape[1], len(lags)
    mean = np.zeros((n_e, n_n, n_l), np.float32)
    low, high = np.zeros_like(mean), np.zeros_like(mean)
    counts = np.zeros(n_e, np.int64)
    a = (1 - level) / 2 * 100
    for k, emo in enumerate(emotions):
        xe = x[labels_arr == emo]
        m = xe.shape[0]
        counts[k] = m
        mean[k] = xe.mean(axis=0)
        W = rng.multinomial(m, np.full(m, 1.0 / m), size=n_boot) / m  # (n_boot, m) weights
        for i in range(0, n_n, chunk):
            boot = np.tensordot(W, xe[:, i : i + chunk], axes=(1, 0))  # (n_boot, c, n_l)
            low[k, i : i + chunk], high[k, i : i + chunk] = np.percentile(boot, [a, 100 - a], 0)
    return Psth(lags, emotions, mean, low, high, counts, level)


def selectivity(responses: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Selectivity index and preferred emotion of each neuron from its trial responses.

    With ``R_e`` = the neuron's mean response to emotion ``e`` rectified at 0 (a suppression
    counts as no response), ``best = max_e R_e`` and ``others`` = the mean of the other
    emotions' ``R_e``: ``SI = (best - others) / (best + others)``, in [0, 1]; 1 = responds to one
    emotion only, 0 = equally to all (or to none: ``best == 0`` gives 0).

    Parameters
    ----------
    responses : numpy.ndarray
        ``(n_trials, n_neurons)`` per-trial responses (:func:`trial_responses`); NaN trials
        are skipped.
    labels : sequence of str
        ``(n_trials,)`` emotion of each trial; at least two emotions.

    Returns
    -------
    si : numpy.ndarray
        ``(n_neurons,)`` float64 selectivity index.
    preferred : numpy.ndarray
        ``(n_neurons,)`` object array of the emotion with the largest mean response.
    """
    lab = np.asarray(labels, dtype=object)
    emotions = sorted(set(lab.tolist()))
    if len(emotions) < 2:
        raise InputError("selectivity needs trials of at least two emotions")
    resp = np.asarray(responses, dtype=np.float64)
    means = np.zeros((len(emotions), resp.shape[1]))
    for k, e in enumerate(emotions):
        sub = resp[lab == e]
        ok = np.isfinite(sub)
        n = ok.sum(axis=0)
        means[k] = np.divide(np.where(ok, sub, 0.0).sum(axis=0), n, out=means[k], where=n > 0)
    R = np.clip(means, 0.0, None)
    best_i = np.argmax(means, axis=0)
    best = R[best_i, np.arange(R.shape[1])]
    others = (R.sum(axis=0) - best) / (len(emotions) - 1)
    denom = best + others
    si = np.divide(best - others, denom, out=np.zeros_like(best), where=denom > 0)
    return si, np.asarray(emotions, dtype=object)[best_i]
