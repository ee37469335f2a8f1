"""Score per-frame predictions: balanced accuracy with an animal-bootstrap interval and chance.

- :func:`score_frames`: any selection of frames (truth, prediction, animal) -> balanced accuracy,
  a percentile interval from resampling animals (the unit of generalisation; cluster bootstrap,
  :func:`~mouseface.decoding.metrics.bootstrap_confusion`), and chance and a p-value from
  permuting the predictions within each animal
  (:func:`~mouseface.decoding.metrics.permuted_balanced_accuracy`; no refit is needed because
  ``frames.parquet``'s predictions are out of fold).
- :func:`score_window_frames`: every baseline (``neutral``) and response-window (the trial's
  emotion) frame of every trial, no selection by the gate: the headline without ground truth.
- :func:`headline_score`: the truth-chosen score when the run's data are synthetic (a
  ``truth/`` folder beside the videos), else :func:`score_window_frames`.
- :func:`truth_frames` / :func:`score_against_truth`: synthetic data only. The scored frames are
  chosen by the ground truth (``DATA/truth/<session>.parquet``), never by the decoder:
  *expressing* frames, whose true amplitude is at least half of its trial's peak amplitude
  (a trial runs from its onset to the next trial's onset), labelled with the true emotion, and
  *neutral* frames, with no expression at all (every ``amp_<emotion>`` is 0). Every other frame
  (rising and decaying flanks, the low tails of earlier trials) is not scored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.decoding.metrics import (
    bootstrap_confusion,
    permuted_balanced_accuracy,
    scores,
    scores_from_confusion,
)
from mouseface.errors import InputError
from mouseface.stats.bootstrap import percentile_interval
from mouseface.stats.permutation import permutation_p_value

__all__ = [
    "FrameScore",
    "score_frames",
    "truth_frames",
    "score_against_truth",
    "score_window_frames",
    "score_trials",
    "synthetic_data_dir",
    "headline_score",
]

_ZERO = 1e-6  # amplitudes are float32: "no expression" is below this


@dataclass(frozen=True)
class FrameScore:
    """Balanced accuracy of a set of frames.

    Attributes
    ----------
    balanced_accuracy : float
        Mean recall over the true classes present.
    ci_low, ci_high : float
        Percentile interval from resampling animals (``n_boot`` replicates).
    chance : float
        Mean balanced accuracy of the predictions permuted within animal.
    p_value : float
        ``(1 + #permutations >= observed) / (1 + n_permutations)``.
    n_frames, n_animals : int
    n_per_class : dict
        Frames scored per true class.
    what : str
        Which frames were scored (a sentence).
    unit : str
        What was scored (``"frames"`` or ``"trials"``).
    """

    balanced_accuracy: float
    ci_low: float
    ci_high: float
    chance: float
    p_value: float
    n_frames: int
    n_animals: int
    n_per_class: dict[str, int]
    what: str = ""
    unit: str = "frames"

    def sentence(self, *, ci: float = 0.95) -> str:
        """One line: the number, its interval, chance and what it counts."""
        return (
            f"{self.balanced_accuracy:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}] balanced "
            f"accuracy ({round(100 * ci)}% CI, animals resampled; chance {self.chance:.3f}, "
            f"p = {self.p_value:.3g}) over {self.n_frames} {self.unit} of {self.n_animals} animals"
            + (f": {self.what}" if self.what else "")
        )


def score_frames(
    truth: np.ndarray,
    predicted: np.ndarray,
    animal: np.ndarray,
    *,
    n_boot: int = 1000,
    n_permutations: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    what: str = "",
) -> FrameScore:
    """Balanced accuracy of per-frame predictions, an animal-bootstrap interval and chance.

    Parameters
    ----------
    truth, predicted : ndarray of str, shape (n,)
        True and predicted class of each frame (e.g. ``frames.parquet``'s ``predicted``).
    animal : ndarray, shape (n,)
        Animal (or subject) of each frame: the resampled and permutation unit.
    n_boot, n_permutations : int
    ci : float
        Interval coverage in (0, 1).
    seed : int
    what : str
        Description of the frames, kept in the result.

    Returns
    -------
    FrameScore

    Raises
    ------
    InputError
        No frame, lengths differ, or a missing prediction.
    """
    t = np.asarray(truth, dtype=object)
    p = np.asarray(predicted, dtype=object)
    g = np.asarray(animal).astype(str)
    if not (len(t) == len(p) == len(g)) or len(t) == 0:
        raise InputError(
            f"score_frames: need as many predictions ({len(p)}) and animals ({len(g)}) as true "
            f"labels ({len(t)}), and at least one frame"
        )
    if pd.isna(p).any():
        raise InputError(
            f"score_frames: {int(pd.isna(p).sum())} frames have no prediction; select frames "
            "with a 'predicted' value (re-run the pipeline to add it to frames.parquet)"
        )
    t, p = t.astype(str), p.astype(str)
    classes = np.array(sorted(set(t) | set(p)), dtype=object)
    observed = float(scores(t, p, classes)["balanced_accuracy"])
    boot = scores_from_confusion(bootstrap_confusion(t, p, g, classes, n_boot=n_boot, seed=seed))
    lo, hi = percentile_interval(boot["balanced_accuracy"], level=ci)
    null = permuted_balanced_accuracy(t, p, g, classes, n_permutations=n_permutations, seed=seed)
    uniq, counts = np.unique(t, return_counts=True)
    return FrameScore(
        balanced_accuracy=observed,
        ci_low=float(lo),
        ci_high=float(hi),
        chance=float(np.mean(null)) if len(null) else float("nan"),
        p_value=permutation_p_value(observed, null),
        n_frames=len(t),
        n_animals=len(np.unique(g)),
        n_per_class={str(k): int(v) for k, v in zip(uniq, counts, strict=True)},
        what=what,
    )


TRUTH_RULE = (
    "frames chosen by the ground truth: expressing (true amplitude >= half its trial's peak, "
    "labelled with the true emotion) and neutral (no expression at all); predictions out of "
    "fold (the frame's animal was not in training)"
)


def truth_frames(truth: pd.DataFrame, onsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which frames of a synthetic session are scored, and their true class.

    Parameters
    ----------
    truth : DataFrame
        ``truth/<session>.parquet``: ``time`` (s), ``emotion``, ``amplitude``, ``amp_<e>``.
    onsets : ndarray, shape (t,)
        The session's trial onsets, s.

    Returns
    -------
    scored : ndarray of bool, shape (n,)
    label : ndarray of object, shape (n,)
        True class of the scored frames (``neutral`` or the emotion).
    """
    time = truth["time"].to_numpy(np.float64)
    amp = truth["amplitude"].to_numpy(np.float64)
    every = truth.filter(like="amp_").to_numpy(np.float64)
    neutral = (every <= _ZERO).all(axis=1) if every.shape[1] else amp <= _ZERO
    expressing = np.zeros(len(time), bool)
    edges = np.append(np.sort(np.asarray(onsets, dtype=np.float64)), np.inf)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        m = (time >= a) & (time < b)
        peak = amp[m].max() if m.any() else 0.0
        if peak > _ZERO:
            expressing |= m & (amp >= 0.5 * peak)
    expressing &= truth["emotion"].to_numpy(str) != "neutral"
    label = np.where(expressing, truth["emotion"].to_numpy(object), "neutral").astype(object)
    return expressing | neutral, label


def score_against_truth(
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    *,
    n_boot: int = 1000,
    n_permutations: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> FrameScore:
    """Score a synthetic run's per-frame predictions on frames chosen by the ground truth.

    Parameters
    ----------
    out_dir : path
        Output folder of a run (``trials.parquet``, ``sessions/<id>/frames.parquet`` with
        ``predicted``).
    data_dir : path
        The synthetic data folder (``truth/<session>.parquet``).
    n_boot, n_permutations, ci, seed
        See :func:`score_frames`.

    Returns
    -------
    FrameScore

    Raises
    ------
    InputError
        No truth table for a session, no ``predicted`` column, or frames that do not match.
    """
    out, data = Path(out_dir), Path(data_dir)
    trials = _read_trials(out)
    t_all, p_all, g_all = [], [], []
    for sid, tr in trials.groupby("session", sort=True):
        path = data / "truth" / f"{sid}.parquet"
        if not path.is_file():
            raise InputError(f"{path}: no ground truth for session {sid}; is {data} synthetic?")
        frames = pd.read_parquet(out / "sessions" / str(sid) / "frames.parquet")
        if "predicted" not in frames:
            raise InputError(
                f"{out / 'sessions' / str(sid) / 'frames.parquet'}: no 'predicted' column; "
                "re-run the pipeline (decoding needs at least 2 animals)"
            )
        truth = pd.read_parquet(path)
        if len(truth) != len(frames):
            raise InputError(
                f"{path}: {len(truth)} frames but the run has {len(frames)}; the run and the "
                "data do not belong together"
            )
        scored, label = truth_frames(truth, tr["onset"].to_numpy(float))
        scored &= frames["predicted"].notna().to_numpy()
        t_all.append(label[scored])
        p_all.append(frames["predicted"].to_numpy(object)[scored])
        g_all.append(np.full(int(scored.sum()), str(tr["animal"].iloc[0])))
    return score_frames(
        np.concatenate(t_all),
        np.concatenate(p_all),
        np.concatenate(g_all),
        n_boot=n_boot,
        n_permutations=n_permutations,
        ci=ci,
        seed=seed,
        what=TRUTH_RULE,
    )


WINDOW_RULE = (
    "every baseline frame (neutral) and response-window frame (the trial's emotion) of every "
    "trial, no selection by the gate; predictions out of fold (the frame's animal was not in "
    "training)"
)


def _read_trials(out: Path) -> pd.DataFrame:
    """``out/trials.parquet``; InputError when ``out`` is not the output folder of a run."""
    path = out / "trials.parquet"
    if not path.is_file():
        raise InputError(
            f"{out}: no trials.parquet; give the output folder of 'mouseface run' (run it first)"
        )
    return pd.read_parquet(path)


def _provenance(out: Path) -> dict:
    import json

    path = out / "provenance.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def score_window_frames(
    out_dir: str | os.PathLike[str],
    *,
    n_boot: int = 1000,
    n_permutations: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> FrameScore:
    """Score every baseline and response-window frame of a run (no truth needed).

    The windows are the run's (``provenance.json`` config, default baseline [-2, 0] s and
    response [0, 2] s); a frame in windows of two trials with different labels is skipped.

    Raises
    ------
    InputError
        No ``predicted`` column in a session's ``frames.parquet``, or no trial.
    """
    out = Path(out_dir)
    windows = {"baseline": (-2.0, 0.0), "response": (0.0, 2.0)}
    windows |= {k: tuple(v) for k, v in
                ((_provenance(out).get("config") or {}).get("windows") or {}).items()}  # fmt: skip
    trials = _read_trials(out)
    if missing := {"session", "animal", "onset", "emotion"} - set(trials.columns):
        raise InputError(f"{out / 'trials.parquet'}: no column(s) {sorted(missing)}")
    t_all, p_all, g_all = [], [], []
    for sid, tr in trials.groupby("session", sort=True):
        path = out / "sessions" / str(sid) / "frames.parquet"
        frames = pd.read_parquet(path)
        if "predicted" not in frames:
            raise InputError(f"{path}: no 'predicted' column; re-run the pipeline")
        time = frames["time"].to_numpy(np.float64)
        label = np.full(len(time), None, dtype=object)
        clash = np.zeros(len(time), bool)
        for onset, emotion in zip(
            tr["onset"].astype(float), tr["emotion"].astype(str), strict=True
        ):
            for name, lab in (("baseline", "neutral"), ("response", emotion)):
                a, b = windows[name]
                m = (time >= onset + a) & (time < onset + b)
                clash |= m & (label != None) & (label != lab)  # noqa: E711
                label[m & (label == None)] = lab  # noqa: E711
        use = (label != None) & ~clash & frames["predicted"].notna().to_numpy()  # noqa: E711
        t_all.append(label[use])
        p_all.append(frames["predicted"].to_numpy(object)[use])
        g_all.append(np.full(int(use.sum()), str(tr["animal"].iloc[0])))
    if not t_all:
        raise InputError(f"{out / 'trials.parquet'}: no trial to score")
    return score_frames(
        np.concatenate(t_all), np.concatenate(p_all), np.concatenate(g_all), n_boot=n_boot,
        n_permutations=n_permutations, ci=ci, seed=seed, what=WINDOW_RULE,
    )  # fmt: skip


def synthetic_data_dir(out_dir: str | os.PathLike[str]) -> Path | None:
    """The data folder of a synthetic run (``truth/<session>.parquet`` for every session).

    Looked up beside the videos of the run's config (``DATA/videos/*.mp4`` -> ``DATA``);
    None when any session has no truth table.
    """
    sessions = (_provenance(Path(out_dir)).get("config") or {}).get("sessions") or []
    if not sessions:
        return None
    dirs = {Path(s["video"]).parent.parent for s in sessions if s.get("video")}
    if len(dirs) != 1:
        return None
    data = dirs.pop()
    ok = all((data / "truth" / f"{s['id']}.parquet").is_file() for s in sessions)
    return data if ok else None


def headline_score(out_dir: str | os.PathLike[str], **options: float) -> FrameScore:
    """The number to show first: truth-chosen frames when the data are synthetic, else every
    baseline and response-window frame (``options``: see :func:`score_frames`)."""
    data = synthetic_data_dir(out_dir)
    if data is not None:
        return score_against_truth(out_dir, data, **options)
    return score_window_frames(out_dir, **options)


TRIAL_RULE = (
    "every emotion trial, named by the emotion most of its response-window frames are named "
    "(frames named neutral do not vote; when none is named an emotion: its most changed quarter, "
    "read behind the gate), out of fold (the trial's animal was not in training)"
)


def score_trials(
    out_dir: str | os.PathLike[str],
    *,
    n_boot: int = 1000,
    n_permutations: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> FrameScore:
    """Balanced accuracy of the trials' out-of-fold ``predicted`` emotion (``trials.parquet``).

    Every trial with an emotion counts (no selection); intervals resample animals and chance
    permutes the predictions within animal, as :func:`score_frames` does for frames.

    Raises
    ------
    InputError
        No ``trials.parquet``, no ``predicted`` column, or no emotion trial.
    """
    path = Path(out_dir) / "trials.parquet"
    trials = _read_trials(Path(out_dir))
    if "predicted" not in trials:
        raise InputError(f"{path}: no 'predicted' column; decoding needs at least 2 animals")
    t = trials[trials["emotion"].notna() & trials["predicted"].notna()]
    if t.empty:
        raise InputError(f"{path}: no emotion trial with a prediction to score")
    score = score_frames(
        t["emotion"].to_numpy(object),
        t["predicted"].to_numpy(object),
        t["animal"].to_numpy(str),
        n_boot=n_boot,
        n_permutations=n_permutations,
        ci=ci,
        seed=seed,
        what=TRIAL_RULE,
    )
    return replace(score, unit="trials")
