"""Session and trial plan of the synthetic dataset (private).

Every animal gets one session per internal state. Sucrose is given in every session (so that the
state effect on pleasure can be measured); quinine, tail shock, freezing and escape are spread
round-robin over the animal's sessions; LiCl (malaise, which lasts minutes) is the last stimulus of
every session, so that it never contaminates a later baseline.

Optionally (``pairing``) every animal gets one more session after its ordinary ones, in state
:data:`PAIRED_STATE`: sucrose after it was paired with LiCl (conditioned taste aversion). There
the sucrose face is a blend of :data:`PAIRED_BLEND_SHARE` disgust and the rest pleasure (in
action-unit space), the change of meaning that ``mouseface.analyses.meaning`` measures.
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
PAIRED_STATE = "paired"  # state of the post-pairing session (sucrose after sucrose + LiCl)
PAIRED_BLEND = "disgust"  # emotion blended into the sucrose face after pairing
PAIRED_BLEND_SHARE = 0.65  # its share of the face (action units), the rest is pleasure
PAIRED_STATE_GAIN = 1.5  # drive of the post-pairing test (water-restricted, as "thirsty")


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
    licl_tail: float = LICL_TAIL,
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
    licl_tail : float
        Seconds of video after the LiCl onset (default :data:`LICL_TAIL`).

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
                    "blend_emotion": None,
                    "blend_share": 0.0,
                }
            )
            t += dur + GAP + float(rng.uniform(0.5, 3.0))
        length = rows[-1]["onset"] + licl_tail
        trials = pd.DataFrame(rows)
        plans.append(SessionPlan(f"{animal}_s{k + 1}", animal, state, trials, length))
    return plans


def animal_emotion_gain(rng: np.random.Generator) -> dict[str, float]:
    """Per-animal gain of each emotion's expression (lognormal, sd 0.1)."""
    return {e: float(rng.lognormal(0.0, 0.1)) for e in EMOTIONS}


def plan_paired(
    animal: str,
    *,
    index: int,
    trials_per_stimulus: int,
    emotion_gain: dict[str, float],
    rng: np.random.Generator,
) -> SessionPlan:
    """Plan the post-pairing session of one animal (conditioned taste aversion test).

    ``trials_per_stimulus`` sucrose trials (levels cycled, shuffled) in state
    :data:`PAIRED_STATE`. Each trial's face is ``amplitude * ((1 - b) * pleasure + b *
    disgust)`` with ``b =`` :data:`PAIRED_BLEND_SHARE` (each part with its own time course);
    ``amplitude`` = intensity gain x :data:`PAIRED_STATE_GAIN` x the animal's pleasure gain x a
    trial gain. The session ends 10 s after the last stimulus (no LiCl).

    Parameters
    ----------
    animal : str
        Animal id; the session is ``<animal>_s<index>``.
    index : int
        Session number (after the animal's ordinary sessions).
    trials_per_stimulus : int
        Number of sucrose trials.
    emotion_gain : dict
        The animal's gain per emotion.
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    SessionPlan
    """
    levels = STIMULI["sucrose"].levels
    intensities = [levels[i % len(levels)] for i in range(trials_per_stimulus)]
    intensities = [intensities[i] for i in rng.permutation(len(intensities))]
    rows = []
    t = LEAD_IN
    for i, intensity in enumerate(intensities, start=1):
        dur = _drive("sucrose", rng)
        amp = expression_amplitude("sucrose", intensity) * PAIRED_STATE_GAIN
        amp *= emotion_gain["pleasure"] * float(rng.lognormal(0.0, 0.1))
        rows.append(
            {
                "onset": round(t, 3),
                "duration": dur,
                "trial_type": "sucrose",
                "intensity": float(intensity),
                "state": PAIRED_STATE,
                "trial": i,
                "emotion": "pleasure",
                "amplitude": amp,
                "blend_emotion": PAIRED_BLEND,
                "blend_share": PAIRED_BLEND_SHARE,
            }
        )
        t += dur + GAP + float(rng.uniform(0.5, 3.0))
    length = rows[-1]["onset"] + rows[-1]["duration"] + GAP + 2.0
    return SessionPlan(f"{animal}_s{index}", animal, PAIRED_STATE, pd.DataFrame(rows), length)
