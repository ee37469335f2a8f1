"""Per-frame expression and nuisance time series of one session (private).

Expression: each trial adds ``amplitude * time_course(t - onset) * profile.au``; the sum is
multiplied by the animal's per-unit expressivity. A trial with a ``blend_share`` b > 0 (sucrose
after pairing with LiCl) adds ``(1 - b)`` of its own emotion and ``b`` of ``blend_emotion``, each
with its own time course. Nuisances (not emotions, flagged in the ground
truth): small spontaneous facial movement, whisking bouts, blinks (~150 ms), licking (around
sucrose/quinine delivery and spontaneous bouts), grooming with a paw over the snout, head jitter
(sub-pixel to 2 px, < 1 deg), slow illumination drift and sensor noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from mouseface.synth._schedule import SessionPlan
from mouseface.synth.anatomy import Anatomy
from mouseface.synth.profiles import AU_NAMES, EMOTIONS, PROFILES, time_course

_WHISKER = AU_NAMES.index("whisker_angle")
LABEL_THRESHOLD = 0.1  # a frame is labelled with an emotion when its amplitude is >= this
OCCLUSION_THRESHOLD = 0.55  # paw reach from which the paw covers the snout


@dataclass(frozen=True)
class Timeline:
    """Everything that varies per frame; arrays of shape (n_frames,) unless noted."""

    time: np.ndarray
    au: np.ndarray  # (n, n_au) rendered action units
    amplitude: np.ndarray  # (n, n_emotions) expression amplitude per emotion (neutral = 0)
    blink: np.ndarray
    tongue: np.ndarray
    licking: np.ndarray
    whisking: np.ndarray
    paw: np.ndarray
    paw_phase: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    rotation: np.ndarray
    gain: np.ndarray
    noise: np.ndarray

    def truth(self) -> pd.DataFrame:
        """Per-frame ground truth table (see ``docs/synth.md`` for the columns)."""
        n = len(self.time)
        best = np.argmax(self.amplitude, axis=1)
        amp = self.amplitude[np.arange(n), best]
        labelled = amp >= LABEL_THRESHOLD
        emotion = np.where(labelled, np.asarray(EMOTIONS, dtype=object)[best], "neutral")
        cols: dict[str, np.ndarray] = {
            "frame": np.arange(n, dtype=np.int64),
            "time": self.time,
            "emotion": emotion.astype(str),
            "amplitude": np.where(labelled, amp, 0.0).astype(np.float32),
        }
        for j, e in enumerate(EMOTIONS[1:], start=1):
            cols[f"amp_{e}"] = self.amplitude[:, j].astype(np.float32)
        for j, name in enumerate(AU_NAMES):
            cols[f"au_{name}"] = self.au[:, j].astype(np.float32)
        cols |= {
            "blink": self.blink > 0.5,
            "occlusion": self.paw >= OCCLUSION_THRESHOLD,
            "licking": self.licking,
            "whisking": self.whisking,
            "jitter_dx": self.dx.astype(np.float32),
            "jitter_dy": self.dy.astype(np.float32),
            "jitter_rotation": self.rotation.astype(np.float32),
            "illumination": self.gain.astype(np.float32),
        }
        return pd.DataFrame(cols)


def _ar1(rng: np.random.Generator, n: int, *, tau: float, sd: float, fps: float) -> np.ndarray:
    """Stationary AR(1) series: correlation time ``tau`` s, standard deviation ``sd``."""
    a = float(np.exp(-1.0 / (tau * fps)))
    w = rng.standard_normal(n)
    x = lfilter([np.sqrt(1.0 - a * a) * sd], [1.0, -a], w, zi=[a * sd * rng.standard_normal()])
    return x[0]


def _bouts(
    rng: np.random.Generator,
    length: float,
    *,
    rate: float,
    dur: tuple[float, float],
    avoid: list[tuple[float, float]] = (),  # type: ignore[assignment]
) -> list[tuple[float, float]]:
    """Poisson bouts ``(start, end)`` in ``[0, length)``, none overlapping ``avoid`` intervals."""
    out: list[tuple[float, float]] = []
    n = rng.poisson(rate * length)
    for start in np.sort(rng.uniform(0.0, length, n)):
        end = start + rng.uniform(*dur)
        if end > length or (out and start < out[-1][1] + 0.5):
            continue
        if any(start < b and end > a for a, b in avoid):
            continue
        out.append((float(start), float(end)))
    return out


def _envelope(t: np.ndarray, bouts: list[tuple[float, float]], ramp: float) -> np.ndarray:
    """Smooth 0..1 envelope that is 1 inside the bouts, with linear ramps of ``ramp`` s."""
    env = np.zeros_like(t)
    for a, b in bouts:
        env = np.maximum(env, np.clip(np.minimum(t - a, b - t) / ramp + 0.5, 0.0, 1.0))
    return env


def session_timeline(
    plan: SessionPlan, anatomy: Anatomy, *, fps: float, k: float, rng: np.random.Generator
) -> Timeline:
    """Per-frame parameters of one session.

    Parameters
    ----------
    plan : SessionPlan
        The session's trials and length.
    anatomy : Anatomy
        The animal (its ``expressivity`` scales the action units).
    fps : float
        Frame rate, frames per second.
    k : float
        Frame size relative to the 240 x 320 reference (scales the jitter in pixels).
    rng : numpy.random.Generator
        Random source.
    """
    n = int(round(plan.duration * fps))
    t = np.arange(n) / fps
    trials = plan.trials
    amplitude = np.zeros((n, len(EMOTIONS)))
    au = np.zeros((n, len(AU_NAMES)))
    for row in trials.itertuples(index=False):
        share = float(getattr(row, "blend_share", 0.0) or 0.0)
        parts = [(row.emotion, 1.0 - share)]
        if share > 0:
            parts.append((row.blend_emotion, share))
        for emotion, weight in parts:
            tc = time_course(t - row.onset, emotion=emotion, drive=row.duration)
            env = row.amplitude * weight * tc
            amplitude[:, EMOTIONS.index(emotion)] += env
            au += env[:, None] * np.asarray(PROFILES[emotion].au)[None, :]
    au *= np.asarray(anatomy.expressivity)[None, :]
    # the face is never perfectly still: slow small movement of every unit, whisking bouts
    for j in range(len(AU_NAMES)):
        au[:, j] += _ar1(rng, n, tau=1.5, sd=0.04, fps=fps)
    whisk_bouts = _bouts(rng, plan.duration, rate=1 / 25, dur=(1.0, 2.5))
    whisking = _envelope(t, whisk_bouts, 0.2)
    au[:, _WHISKER] += 0.25 * whisking * np.sin(2 * np.pi * rng.uniform(6.0, 10.0) * t)

    # blinks: eyelid fully closed for ~140 ms, 30 ms ramps
    closure = np.zeros(n)
    for tc in np.sort(rng.uniform(0.0, plan.duration, rng.poisson(plan.duration / 12.0))):
        closure = np.maximum(closure, np.clip((0.1 - np.abs(t - tc)) / 0.03, 0.0, 1.0))

    # licking: around sucrose (whole access) and quinine (brief, then aversion) deliveries,
    # plus spontaneous bouts
    lick_bouts = _bouts(rng, plan.duration, rate=1 / 30, dur=(0.5, 1.5))
    for row in trials.itertuples(index=False):
        if row.trial_type == "sucrose":
            lick_bouts.append((row.onset - 0.2, row.onset + row.duration + 0.3))
        elif row.trial_type == "quinine":
            lick_bouts.append((row.onset - 0.2, row.onset + 0.6))
    licking = _envelope(t, lick_bouts, 0.05) > 0.5
    lick_rate = rng.uniform(6.0, 8.0)
    tongue = licking * np.clip(np.sin(2 * np.pi * lick_rate * t), 0.0, None)

    # grooming: a forepaw strokes over the snout, never inside a trial's windows
    avoid = [(row.onset - 2.5, row.onset + max(row.duration, 2.0) + 1.0) for row in
             trials.itertuples(index=False)]  # fmt: skip
    groom = _bouts(rng, plan.duration, rate=1 / 50, dur=(2.0, 4.0), avoid=avoid)
    stroke = rng.uniform(2.5, 4.0)
    paw = _envelope(t, groom, 0.3) * (0.85 + 0.15 * np.sin(2 * np.pi * stroke * t))
    paw_phase = 2 * np.pi * stroke * t

    # head jitter: slow drift + small tremor, stronger while running (escape)
    tremor = np.full(n, 0.1)
    for row in trials.itertuples(index=False):
        if row.trial_type == "escape":
            tremor[(t >= row.onset) & (t < row.onset + row.duration)] = 0.5
    lim = 2.0 * k
    dx = np.clip((_ar1(rng, n, tau=0.8, sd=0.6, fps=fps) + tremor * rng.standard_normal(n)) * k,
                 -lim, lim)  # fmt: skip
    dy = np.clip((_ar1(rng, n, tau=0.8, sd=0.6, fps=fps) + tremor * rng.standard_normal(n)) * k,
                 -lim, lim)  # fmt: skip
    rotation = np.clip(_ar1(rng, n, tau=1.0, sd=0.25, fps=fps), -0.9, 0.9)

    period = rng.uniform(60.0, 180.0)
    gain = 1.0 + 0.05 * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    gain = np.clip(gain + _ar1(rng, n, tau=20.0, sd=0.015, fps=fps), 0.85, 1.15)

    return Timeline(
        time=t,
        au=au,
        amplitude=amplitude,
        blink=closure,
        tongue=tongue,
        licking=licking,
        whisking=whisking > 0.5,
        paw=paw,
        paw_phase=paw_phase,
        dx=dx,
        dy=dy,
        rotation=rotation,
        gain=gain,
        noise=rng.integers(0, 1 << 15, n),
    )
