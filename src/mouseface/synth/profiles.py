"""Emotion profiles: action-unit vectors, time courses, intensity and internal-state scaling.

An *expression* is a vector of facial action units (AUs, :data:`AU_NAMES`), each a
dimensionless number on a common scale: 0 is the neutral face and +-1 a full-scale movement (the
renderer maps 1 to a fixed angle or displacement, see ``docs/synth.md``). Each emotion has a
profile (:data:`PROFILES`): the AU vector of its full-intensity expression and the time course
of its rise and decay after a stimulus. The sources of each value (Dolensek et al. 2020, the
Mouse Grimace Scale of Langford et al. 2010, or our own choice) are listed in ``docs/synth.md``.

The expression of a trial at time ``t`` is ``amplitude * time_course(t - onset) * profile.au``
with ``amplitude = intensity_gain(stimulus, intensity) * state_gain(emotion, state)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from mouseface.errors import InputError

__all__ = [
    "AU_NAMES",
    "EMOTIONS",
    "PROFILES",
    "STIMULI",
    "STIMULUS_EMOTION",
    "EmotionProfile",
    "Stimulus",
    "au_vector",
    "expression_amplitude",
    "intensity_gain",
    "state_gain",
    "time_course",
]

#: Facial action units, in the order of every AU vector. Signs: ``ear_angle`` > 0 turns the
#: pinna forward (toward the snout), < 0 back; ``ear_flat`` flattens the pinna against the head
#: (0..1); ``eye_close`` is orbital tightening (1 = closed, < 0 = eye opened wider);
#: ``nose_bulge`` rounds the bridge of the nose (0..1); ``nose_down`` moves the nose tip down
#: toward the mouth (> 0) or up (< 0); ``cheek_bulge`` makes the cheek convex (0..1);
#: ``whisker_angle`` > 0 protracts the whiskers (forward), < 0 retracts them; ``whisker_spread``
#: > 0 fans them out, < 0 clumps them; ``jaw_open`` opens the mouth (0..1); ``jaw_forward`` moves
#: the lower jaw forward (> 0) or back (< 0).
AU_NAMES: tuple[str, ...] = (
    "ear_angle",
    "ear_flat",
    "eye_close",
    "nose_bulge",
    "nose_down",
    "cheek_bulge",
    "whisker_angle",
    "whisker_spread",
    "jaw_open",
    "jaw_forward",
)

#: The seven classes, neutral first.
EMOTIONS: tuple[str, ...] = (
    "neutral",
    "pleasure",
    "disgust",
    "malaise",
    "pain",
    "passive_fear",
    "active_fear",
)


@dataclass(frozen=True)
class EmotionProfile:
    """Full-intensity expression and time course of one emotion.

    Attributes
    ----------
    name : str
        Emotion name (one of :data:`EMOTIONS`).
    au : tuple of float
        Action-unit values of the full expression, in :data:`AU_NAMES` order (0 = neutral).
    latency : float
        Delay from stimulus onset to the start of the facial response, seconds.
    rise : float
        Time constant of the exponential rise while the stimulus drives the state, seconds.
    decay : float
        Time constant of the exponential decay once the drive ends, seconds.
    drive : float
        Default drive duration (how long the stimulus keeps the state rising), seconds.
    """

    name: str
    au: tuple[float, ...]
    latency: float
    rise: float
    decay: float
    drive: float


def au_vector(values: Mapping[str, float]) -> tuple[float, ...]:
    """Build an AU vector from a ``{name: value}`` mapping; missing units are 0.

    Parameters
    ----------
    values : mapping of str to float
        Action-unit values by name (see :data:`AU_NAMES`).

    Returns
    -------
    tuple of float
        Length ``len(AU_NAMES)``, in :data:`AU_NAMES` order.

    Raises
    ------
    mouseface.errors.InputError
        If a name is not an action unit.
    """
    unknown = sorted(set(values) - set(AU_NAMES))
    if unknown:
        raise InputError(f"unknown action unit(s) {unknown}; valid names are {list(AU_NAMES)}")
    return tuple(float(values.get(name, 0.0)) for name in AU_NAMES)


def _profile(name: str, latency: float, rise: float, decay: float, drive: float, **au: float):
    return EmotionProfile(name, au_vector(au), latency, rise, decay, drive)


#: Emotion profiles (read-only). See ``docs/synth.md`` for where each value comes from.
PROFILES: Mapping[str, EmotionProfile] = MappingProxyType(
    {
        "neutral": _profile("neutral", 0.0, 1.0, 1.0, 0.0),
        # Dolensek 2020: nose pulled down toward the mouth, ears and jaw forward. Whiskers
        # protracted toward the spout and relaxed eyes: our choice.
        "pleasure": _profile(
            "pleasure", 0.15, 0.4, 1.5, 2.0,
            ear_angle=0.9, nose_down=0.9, jaw_forward=0.7, whisker_angle=0.5,
            whisker_spread=0.3, eye_close=0.15,
        ),
        # Gape (taste reactivity, Grill & Norgren 1978), nose pulled up, ears half flattened,
        # narrowed eyes: our choice (the sources we could read do not describe the disgust
        # face).
        "disgust": _profile(
            "disgust", 0.25, 0.4, 2.0, 2.0,
            ear_angle=-0.3, ear_flat=0.5, eye_close=0.35, nose_down=-1.0, jaw_open=1.0,
            nose_bulge=0.2,
        ),
        # Persistent (minutes). Hunched "sick" face: ears drooped sideways, half-closed eyes,
        # whiskers drooping back, bulging cheeks (MGS-like units, strength our choice).
        "malaise": _profile(
            "malaise", 0.3, 0.6, 120.0, 5.0,
            ear_angle=-0.2, ear_flat=1.0, eye_close=0.55, cheek_bulge=0.5, whisker_angle=-0.5,
            whisker_spread=-0.3, nose_down=0.3, jaw_forward=-0.3,
        ),
        # Mouse Grimace Scale (Langford 2010): orbital tightening, nose and cheek bulge, ears
        # back, whiskers pulled back and clumped; Dolensek 2020: ears back, jaw and nose shifted.
        "pain": _profile(
            "pain", 0.05, 0.15, 2.0, 1.0,
            ear_angle=-1.0, eye_close=0.9, nose_bulge=0.9, cheek_bulge=0.9,
            whisker_angle=-0.7, whisker_spread=-0.5, nose_down=-0.3, jaw_forward=-0.6,
        ),
        # Freezing: immobile face, ears turned back, eyes wide open, whiskers still and clumped:
        # our choice.
        "passive_fear": _profile(
            "passive_fear", 0.2, 0.5, 1.5, 3.0,
            ear_angle=-0.7, eye_close=-0.7, whisker_spread=-0.9, nose_down=-0.3,
        ),
        # Escape running: ears back, eyes wide, whiskers protracted and fanned (active
        # whisking), nose up, mouth slightly open (panting): our choice.
        "active_fear": _profile(
            "active_fear", 0.1, 0.3, 1.0, 2.0,
            ear_angle=-0.8, ear_flat=0.4, eye_close=-0.5, whisker_angle=1.0, whisker_spread=1.0,
            nose_down=-0.7, jaw_open=0.35,
        ),
    }
)  # fmt: skip


@dataclass(frozen=True)
class Stimulus:
    """A stimulus (trial type) and how its intensity maps to expression amplitude.

    The gain is a saturating Hill function, ``i**n / (i**n + half**n)`` normalised so that
    ``levels[-1]`` (the strongest level used) gives ``max_gain``.

    Attributes
    ----------
    name : str
        Trial type in the events table (e.g. ``"sucrose"``).
    emotion : str
        Emotion it evokes (one of :data:`EMOTIONS`).
    unit : str
        Unit of the ``intensity`` column.
    levels : tuple of float
        Intensities used by the dataset generator, weakest first.
    half : float
        Intensity of half-maximal response (Hill constant), in ``unit``.
    hill : float
        Hill exponent (steepness).
    max_gain : float
        Gain at ``levels[-1]``.
    """

    name: str
    emotion: str
    unit: str
    levels: tuple[float, ...]
    half: float
    hill: float = 1.0
    max_gain: float = 1.0


#: Stimuli of the synthetic paradigm (read-only), following Dolensek et al. 2020.
STIMULI: Mapping[str, Stimulus] = MappingProxyType(
    {
        "sucrose": Stimulus("sucrose", "pleasure", "M", (0.1, 0.3, 1.0), half=0.25, hill=1.5),
        "quinine": Stimulus("quinine", "disgust", "mM", (0.5, 1.0, 2.0), half=0.6, hill=1.5),
        "licl": Stimulus("licl", "malaise", "M", (0.15,), half=0.05, hill=1.0),
        "tail_shock": Stimulus(
            "tail_shock", "pain", "uA", (100.0, 300.0, 500.0), half=200.0, hill=2.0
        ),
        "freezing": Stimulus("freezing", "passive_fear", "a.u.", (1.0,), half=0.2, hill=1.0),
        "escape": Stimulus("escape", "active_fear", "a.u.", (1.0,), half=0.2, hill=1.0),
    }
)

#: Stimulus -> emotion map, as written to ``mouseface.yaml``.
STIMULUS_EMOTION: Mapping[str, str] = MappingProxyType(
    {name: stim.emotion for name, stim in STIMULI.items()}
)

#: Internal-state gain per emotion: a thirsty mouse shows ~1.5x the pleasure of a sated one
#: (Dolensek 2020, fig. 2); other emotions are not state dependent here (our choice).
_STATE_GAIN: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {"pleasure": MappingProxyType({"thirsty": 1.5, "sated": 1.0})}
)

_KNOWN_STATES = ("thirsty", "sated")


def _get_profile(emotion: str) -> EmotionProfile:
    try:
        return PROFILES[emotion]
    except KeyError:
        raise InputError(
            f"unknown emotion {emotion!r}; valid emotions are {list(EMOTIONS)}"
        ) from None


def _get_stimulus(stimulus: str) -> Stimulus:
    try:
        return STIMULI[stimulus]
    except KeyError:
        raise InputError(
            f"unknown stimulus {stimulus!r}; valid stimuli are {list(STIMULI)}"
        ) from None


def time_course(t: np.ndarray | float, *, emotion: str, drive: float | None = None) -> np.ndarray:
    """Normalised time course of an emotion after a stimulus at ``t = 0``.

    ``0`` before the latency; ``1 - exp(-s / rise)`` while the stimulus drives the state
    (``0 <= s < drive``, ``s = t - latency``); then an exponential decay with time constant
    ``decay`` from the value reached at the end of the drive.

    Parameters
    ----------
    t : numpy.ndarray or float
        Time since stimulus onset, seconds, any shape.
    emotion : str
        Emotion name (a key of :data:`PROFILES`).
    drive : float or None, optional
        Drive duration in seconds; ``None`` uses the profile's default.

    Returns
    -------
    numpy.ndarray
        float64, same shape as ``t``, values in ``[0, 1)``; all zeros for ``"neutral"``.
    """
    prof = _get_profile(emotion)
    t = np.asarray(t, dtype=np.float64)
    if emotion == "neutral":
        return np.zeros_like(t)
    drive = prof.drive if drive is None else float(drive)
    if drive < 0:
        raise InputError(f"time_course: drive must be >= 0 s, got {drive}")
    s = t - prof.latency
    rising = -np.expm1(-np.clip(s, 0.0, drive) / prof.rise)
    after = np.exp(-np.clip(s - drive, 0.0, None) / prof.decay)
    return np.where(s < 0, 0.0, rising * after)


def intensity_gain(stimulus: str, intensity: np.ndarray | float) -> np.ndarray:
    """Saturating map from stimulus intensity to expression gain.

    Parameters
    ----------
    stimulus : str
        Trial type (a key of :data:`STIMULI`).
    intensity : numpy.ndarray or float
        Stimulus intensity in the stimulus' unit (M sucrose, mM quinine, uA shock, ...), >= 0.

    Returns
    -------
    numpy.ndarray
        float64, same shape as ``intensity``; 0 at 0, increasing, saturating, ``max_gain`` at
        the strongest level.
    """
    stim = _get_stimulus(stimulus)
    x = np.asarray(intensity, dtype=np.float64)
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise InputError(f"intensity of {stimulus!r} must be finite and >= 0, got {intensity}")

    def hill(v: np.ndarray | float) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64) ** stim.hill
        return v / (v + stim.half**stim.hill)

    return stim.max_gain * hill(x) / hill(stim.levels[-1])


def state_gain(emotion: str, state: str | None) -> float:
    """Gain of an emotion's expression in an internal state.

    Parameters
    ----------
    emotion : str
        Emotion name.
    state : str or None
        ``"thirsty"``, ``"sated"`` or ``None`` (no state: gain 1).

    Returns
    -------
    float
        1.5 for pleasure when thirsty, 1.0 otherwise.
    """
    _get_profile(emotion)
    if state is None:
        return 1.0
    if state not in _KNOWN_STATES:
        raise InputError(f"unknown state {state!r}; valid states are {list(_KNOWN_STATES)}")
    return float(_STATE_GAIN.get(emotion, {}).get(state, 1.0))


def expression_amplitude(stimulus: str, intensity: float, state: str | None = None) -> float:
    """Peak amplitude of the expression a stimulus evokes (intensity gain x state gain).

    Parameters
    ----------
    stimulus : str
        Trial type (a key of :data:`STIMULI`).
    intensity : float
        Stimulus intensity in its unit.
    state : str or None, optional
        Internal state (``"thirsty"``, ``"sated"``) or ``None``.

    Returns
    -------
    float
        Amplitude that multiplies the emotion's AU vector (1 = the profile).
    """
    stim = _get_stimulus(stimulus)
    return float(intensity_gain(stimulus, intensity)) * state_gain(stim.emotion, state)
