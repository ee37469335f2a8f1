"""Session and trial plan of the synthetic dataset (private).

Every animal gets one session per internal state. Sucrose is given in every session (so that the
state effect on pleasure can be measured); quinine, tail shock, freezing and escape are spread
round-robin over the animal's sessions; LiCl (malaise, which lasts minutes) is the last stimulus of
every session, so that it never contaminates a later baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mouseface.synth.profiles import EMOTIONS, STIMULI, expression_amplitude

LEAD_IN = 6.0  # s of neutral face before the first trial
LICL_TAIL = 90.0  # s of video after the LiCl onset (the malaise decay must be measurable)
GAP = 8.0  # s at least from the end of one stimulus to the next onset
_SHARED = ("quinine", "tail_shock", "freezing", "escape")


def _drive(trial_type: str, rng: np.random.Generator) -> float:
    """Duration of the stimulus (event ``duration``), seconds."""
    if trial_type == "freezing":
        return float(np.round(rng.uniform(2.5, 4.0), 2))
    if trial_type == "escape":
        return float(np.round(rng.uniform(1.5, 2.5), 2))
    return {"sucrose": 2.0, "quinine": 2.0, "tail_shock": 1.0, "licl": 5.0}[trial_type]


@dataclass(frozen=True)
class SessionPlan:
    """One session: id, animal, state, trials table and length in seconds."""

    id: str
    animal: str
    state: str | None
    trials: pd.DataFrame
    duration: float


def plan_animal(
    animal: str,
    *,
    states: tuple[str, ...],
    trials_per_stimulus: int,
    emotion_gain: dict[str, float],
    rng: np.random.Generator,
) -> list[SessionPlan]:
    """Plan all sessions of one animal.

    Parameters
    ----------
    animal : str
        Animal id; sessions are named ``<animal>_s<k>`` (k = 1, 2, ...).
    states : tuple of str
        One session per state (``None``-like empty tuple gives one session without state).
    trials_per_stimulus : int
        Trials of each stimulus in each session that has it (LiCl: one per session).
    emotion_gain : dict
        The animal's gain per emotion (its expressivity).
    rng : numpy.random.Generator
        Random source (order of trials, intervals, trial-to-trial amplitude).

    Returns
    -------
    list of SessionPlan
    """
    session_states: tuple[str | None, ...] = states if states else (None,)
    n = len(session_states)
    plans = []
    for k, state in enumerate(session_states):
        stimuli = ["sucrose"] + [s for j, s in enumerate(_SHARED) if j % n == k]
        types: list[tuple[str, float]] = []
        for stim in stimuli:
            levels = STIMULI[stim].levels
            types += [(stim, levels[i % len(levels)]) for i in range(trials_per_stimulus)]
        order = rng.permutation(len(types))
        types = [types[i] for i in order] + [("licl", STIMULI["licl"].levels[-1])]
        rows = []
        t = LEAD_IN
        for i, (stim, intensity) in enumerate(types, start=1):
            dur = _drive(stim, rng)
            emotion = STIMULI[stim].emotion
            amp = expression_amplitude(stim, intensity, state) * emotion_gain[emotion]
            amp *= float(rng.lognormal(0.0, 0.1))
            rows.append(
                {
                    "onset": round(t, 3),
                    "duration": dur,
                    "trial_type": stim,
                    "intensity": float(intensity),
                    "state": state,
                    "trial": i,
                    "emotion": emotion,
                    "amplitude": amp,
                }
            )
            t += dur + GAP + float(rng.uniform(0.5, 3.0))
        length = rows[-1]["onset"] + LICL_TAIL
        trials = pd.DataFrame(rows)
        plans.append(SessionPlan(f"{animal}_s{k + 1}", animal, state, trials, length))
    return plans


def animal_emotion_gain(rng: np.random.Generator) -> dict[str, float]:
    """Per-animal gain of each emotion's expression (lognormal, sd 0.1)."""
    return {e: float(rng.lognormal(0.0, 0.1)) for e in EMOTIONS}
