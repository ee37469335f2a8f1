"""Tests of mouseface.synth.profiles: emotion AU vectors, time courses and gains."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mouseface.errors import InputError
from mouseface.synth.profiles import (
    AU_NAMES,
    EMOTIONS,
    PROFILES,
    STIMULI,
    STIMULUS_EMOTION,
    au_vector,
    expression_amplitude,
    intensity_gain,
    state_gain,
    time_course,
)


def test_seven_classes_and_stimulus_map() -> None:
    assert set(PROFILES) == set(EMOTIONS)
    assert len(EMOTIONS) == 7 and EMOTIONS[0] == "neutral"
    assert STIMULUS_EMOTION == {
        "sucrose": "pleasure",
        "quinine": "disgust",
        "licl": "malaise",
        "tail_shock": "pain",
        "freezing": "passive_fear",
        "escape": "active_fear",
    }
    for p in PROFILES.values():
        assert len(p.au) == len(AU_NAMES)
    assert not any(PROFILES["neutral"].au)


def test_profiles_differ_from_neutral_and_each_other() -> None:
    vecs = {e: np.asarray(p.au) for e, p in PROFILES.items()}
    for e in EMOTIONS[1:]:
        assert np.linalg.norm(vecs[e]) > 1.0, e
    for a, b in itertools.combinations(EMOTIONS[1:], 2):
        assert np.linalg.norm(vecs[a] - vecs[b]) > 0.8, (a, b)
        # not merely a rescaled copy of another profile
        cos = vecs[a] @ vecs[b] / (np.linalg.norm(vecs[a]) * np.linalg.norm(vecs[b]))
        assert cos < 0.8, (a, b)


def test_literature_directions() -> None:
    au = {e: dict(zip(AU_NAMES, p.au, strict=True)) for e, p in PROFILES.items()}
    # Dolensek 2020: pleasure = nose down toward the mouth, ears forward
    assert au["pleasure"]["nose_down"] > 0.5 and au["pleasure"]["ear_angle"] > 0.5
    # Mouse Grimace Scale (Langford 2010): pain = orbital tightening, nose and cheek bulge,
    # ears back, whiskers changed
    pain = au["pain"]
    assert pain["eye_close"] > 0.5 and pain["nose_bulge"] > 0.5 and pain["cheek_bulge"] > 0.5
    assert pain["ear_angle"] < -0.5 and pain["whisker_angle"] < 0


def test_time_course_shapes() -> None:
    t = np.linspace(-5.0, 400.0, 40501)
    for e in EMOTIONS[1:]:
        tc = time_course(t, emotion=e)
        assert tc.shape == t.shape
        assert np.all(tc[t < 0] == 0.0)
        assert 0.3 < tc.max() <= 1.0
        assert np.all(np.isfinite(tc))
    assert not np.any(time_course(t, emotion="neutral"))


def test_malaise_persists_and_pain_is_brief() -> None:
    t = np.array([60.0, 10.0])
    peak_malaise = time_course(np.linspace(0, 20, 2001), emotion="malaise").max()
    peak_pain = time_course(np.linspace(0, 20, 2001), emotion="pain").max()
    assert time_course(t[0], emotion="malaise") > 0.5 * peak_malaise
    assert time_course(t[1], emotion="pain") < 0.1 * peak_pain
    assert 120.0 <= PROFILES["malaise"].decay <= 300.0
    assert PROFILES["pain"].decay == pytest.approx(2.0)


def test_every_expression_reaches_half_amplitude_in_response_window() -> None:
    t = np.linspace(0.0, 2.0, 201)
    for e in EMOTIONS[1:]:
        assert time_course(t, emotion=e).max() > 0.5, e


@pytest.mark.parametrize("stimulus", [s for s in STIMULI if len(STIMULI[s].levels) > 1])
def test_intensity_gain_monotonic_and_saturating(stimulus: str) -> None:
    levels = np.asarray(STIMULI[stimulus].levels)
    g = intensity_gain(stimulus, levels)
    assert np.all(np.diff(g) > 0)
    assert g[-1] == pytest.approx(STIMULI[stimulus].max_gain)
    assert intensity_gain(stimulus, 0.0) == 0.0
    fine = intensity_gain(stimulus, np.linspace(0, 1000 * levels[-1], 5001))
    assert np.all(np.diff(fine) >= 0)
    assert fine[-1] < 2.0 * g[-1]  # saturates


def test_state_scaling() -> None:
    assert state_gain("pleasure", "thirsty") == pytest.approx(1.5 * state_gain("pleasure", "sated"))
    for e in EMOTIONS:
        assert state_gain(e, None) == 1.0
    assert state_gain("pain", "thirsty") == state_gain("pain", "sated") == 1.0
    for c in STIMULI["sucrose"].levels:
        thirsty = expression_amplitude("sucrose", c, "thirsty")
        assert thirsty > expression_amplitude("sucrose", c, "sated") > 0


def test_bad_names_raise() -> None:
    with pytest.raises(InputError, match="unknown emotion"):
        time_course(0.0, emotion="joy")
    with pytest.raises(InputError, match="unknown stimulus"):
        intensity_gain("cheese", 1.0)
    with pytest.raises(InputError, match="unknown state"):
        state_gain("pleasure", "hungry")
    with pytest.raises(InputError, match=">= 0"):
        intensity_gain("sucrose", -1.0)
    with pytest.raises(InputError, match="unknown action unit"):
        au_vector({"smile": 1.0})
