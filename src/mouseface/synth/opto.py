"""Synthetic optogenetic sessions: laser epochs that evoke a chosen emotion, dose-dependent.

A session plan (:func:`plan_opto`) holds laser epochs at several powers for each target and sham
epochs (light delivered away from the opsin: no expression). Each target evokes one emotion; the
expression amplitude of an epoch is ``opto_gain(power) x the animal's gain for that emotion x a
trial gain (lognormal, sd 0.1)``, with :func:`opto_gain` a Hill function of power (monotone
increasing: more light, stronger face). Sham epochs have amplitude 0. The plan is a
:class:`~mouseface.synth._schedule.SessionPlan`, so :func:`opto_truth` (and the video
generator) draw its faces exactly like stimulus sessions (the emotion's time course with
``drive`` = the epoch's duration). Targets, powers and the Hill parameters are **our choice**,
not values from Dolensek et al. 2020.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mouseface.errors import InputError
from mouseface.synth._schedule import LEAD_IN, SessionPlan
from mouseface.synth._timeline import session_timeline
from mouseface.synth.anatomy import Anatomy
from mouseface.synth.profiles import EMOTIONS

__all__ = [
    "OPTO_TARGETS",
    "OPTO_POWERS",
    "opto_gain",
    "plan_opto",
    "laser_table",
    "OPTO_SUFFIX",
    "opto_truth",
]

#: Default targets (fictitious names) and the emotion each evokes.
OPTO_TARGETS: Mapping[str, str] = {"site_a": "pleasure", "site_b": "pain"}
#: Default laser powers, mW.
OPTO_POWERS: tuple[float, ...] = (2.0, 5.0, 10.0)
_HALF = 4.0  # mW for half the maximal expression
_HILL = 2.0


#: session id suffix of an animal's optogenetics session (``<animal>_opto``)
OPTO_SUFFIX = "_opto"


def opto_gain(power: np.ndarray | float) -> np.ndarray:
    """Expression amplitude per unit gain at laser ``power`` (mW): ``P^n / (P^n + K^n)`` with
    ``K = 4 mW``, ``n = 2`` (0 at 0 mW, monotone increasing, -> 1)."""
    p = np.clip(np.asarray(power, dtype=np.float64), 0.0, None)
    return p**_HILL / (p**_HILL + _HALF**_HILL)


def plan_opto(
    animal: str,
    *,
    session: str | None = None,
    targets: Mapping[str, str] = OPTO_TARGETS,
    powers: Sequence[float] = OPTO_POWERS,
    epochs_per_power: int = 3,
    n_sham: int = 4,
    duration: float = 3.0,
    frequency: float = 20.0,
    emotion_gain: Mapping[str, float] | None = None,
    rng: np.random.Generator,
) -> tuple[SessionPlan, pd.DataFrame]:
    """Plan one optogenetic session.

    Parameters
    ----------
    animal : str
        Animal id.
    session : str or None, optional
        Session id (default ``<animal>_opto``).
    targets : mapping, optional
        Target name -> evoked emotion (default :data:`OPTO_TARGETS`); emotions from
        :data:`~mouseface.synth.profiles.EMOTIONS` except neutral and malaise (its minutes-long
        decay would spill into the next baseline).
    powers : sequence of float, optional
        Laser powers, mW (default :data:`OPTO_POWERS`).
    epochs_per_power : int, optional
        Epochs of each target at each power (default 3).
    n_sham : int, optional
        Sham epochs (target ``sham``, power = the highest, no expression; default 4).
    duration : float, optional
        Epoch length, seconds (default 3).
    frequency : float, optional
        Pulse frequency, Hz (recorded in the laser table; default 20).
    emotion_gain : mapping or None, optional
        The animal's gain per emotion (default 1 for all).
    rng : numpy.random.Generator
        Random source (order, intervals, trial gains).

    Returns
    -------
    plan : SessionPlan
        ``trials`` with the event columns (``trial_type`` = ``laser_<target>`` or ``sham``,
        ``intensity`` = power) and ``emotion``, ``amplitude`` (0 for sham), ``blend_*``.
    laser : pandas.DataFrame
        The laser table: ``onset``, ``duration``, ``frequency``, ``power``, ``target``,
        ``sham`` (what a rig would log; onsets on the video clock).
    """
    bad = [e for e in targets.values() if e not in EMOTIONS or e in ("neutral", "malaise")]
    if bad or not targets:
        raise InputError(f"plan_opto: target emotions must be from {EMOTIONS[1:]} except malaise")
    if epochs_per_power < 1 or n_sham < 0 or duration <= 0 or not powers:
        raise InputError("plan_opto: epochs_per_power >= 1, n_sham >= 0, duration > 0 needed")
    gain = emotion_gain or {}
    items = [(t, float(p)) for t in targets for p in powers for _ in range(epochs_per_power)]
    items += [("sham", float(max(powers)))] * n_sham
    items = [items[i] for i in rng.permutation(len(items))]
    first_emotion = next(iter(targets.values()))
    rows, laser = [], []
    t = LEAD_IN
    for i, (target, power) in enumerate(items, start=1):
        sham = target == "sham"
        emotion = first_emotion if sham else targets[target]
        amp = 0.0
        if not sham:
            amp = float(opto_gain(power)) * gain.get(emotion, 1.0) * float(rng.lognormal(0, 0.1))
        rows.append(
            {
                "onset": round(t, 3),
                "duration": float(duration),
                "trial_type": "sham" if sham else f"laser_{target}",
                "intensity": power,
                "frequency": float(frequency),
                "state": None,
                "trial": i,
                "emotion": emotion,
                "amplitude": amp,
                "blend_emotion": None,
                "blend_share": 0.0,
            }
        )
        laser.append(
            {
                "onset": round(t, 3),
                "duration": float(duration),
                "frequency": float(frequency),
                "power": power,
                "target": target,
                "sham": sham,
            }
        )
        t += duration + float(rng.uniform(9.0, 12.0))
    length = t + 2.0
    plan = SessionPlan(
        session or f"{animal}{OPTO_SUFFIX}", animal, None, pd.DataFrame(rows), length
    )
    return plan, pd.DataFrame(laser)


def laser_table(plan: SessionPlan) -> pd.DataFrame:
    """The laser table of an opto session plan (what :func:`plan_opto` returns beside it).

    Returns
    -------
    pandas.DataFrame
        ``onset``, ``duration`` (s), ``frequency`` (Hz), ``power`` (mW), ``target``, ``sham``.
    """
    tr = plan.trials
    sham = (tr["trial_type"] == "sham").to_numpy()
    return pd.DataFrame(
        {
            "onset": tr["onset"].to_numpy(float),
            "duration": tr["duration"].to_numpy(float),
            "frequency": tr["frequency"].to_numpy(float),
            "power": tr["intensity"].to_numpy(float),
            "target": np.where(sham, "sham", tr["trial_type"].str.removeprefix("laser_")),
            "sham": sham,
        }
    )


def opto_truth(
    plan: SessionPlan, anatomy: Anatomy, *, fps: float, rng: np.random.Generator, k: float = 1.0
) -> pd.DataFrame:
    """Per-frame ground truth of an opto session (as ``truth/<session>.parquet``), without
    rendering; ``k`` = frame size relative to 240 x 320 (scales the jitter)."""
    return session_timeline(plan, anatomy, fps=fps, k=k, rng=rng).truth()
