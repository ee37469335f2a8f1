"""Sessions of the synthetic dataset made from real mouse faces (``generate_dataset(faces=...)``).

Every animal is a real mouse (an *identity*: shipped footage or a user video) seen through a
:class:`~mouseface.synth.real_render.Variant`; with more animals than identities, animal ``i``
gets identity ``i % n_identities`` and variant ``i // n_identities`` (variant 0 = the footage as
is; later ones: crop offset, zoom, contrast/gamma; mirroring is available, :func:`variant`).
Each animal has its own expression *style*: a log-normal gain (sd :data:`STYLE_SD`) per action
unit and emotion and units it does not use (dropout, probability :data:`DROPOUT`), so the same
emotion differs between animals. The schedule, the per-frame expression and most nuisances come
from the same plan and timeline as the cartoon (``_schedule.py``, ``_timeline.py``); added here:
the style, brief paw swipes that may fall inside trial windows, head yaw, and playback of the
real footage as a continuous loop (ping-pong inside each clip, 6-frame cross-fades between
clips).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from mouseface.io.outputs import write_parquet_atomic
from mouseface.synth._schedule import SessionPlan
from mouseface.synth._session_files import equal_rois, write_session_files
from mouseface.synth._timeline import Timeline, _ar1, _bouts, _envelope, session_timeline
from mouseface.synth.anatomy import Anatomy
from mouseface.synth.faces import FaceFootage, load_faces
from mouseface.synth.landmarks import LANDMARK_NAMES, find_landmarks
from mouseface.synth.pose import real_keypoints
from mouseface.synth.profiles import AU_NAMES, EMOTIONS, PROFILES
from mouseface.synth.real_render import RealFaceRenderer, Variant

__all__ = [
    "DROPOUT",
    "STYLE_SD",
    "animal_style",
    "playback",
    "style_cosine",
    "variant",
    "write_real_sessions",
]

STYLE_SD = 0.3  # sd of the log-normal gain per action unit and emotion of an animal
DROPOUT = 0.15  # probability that an animal does not use an action unit at all
_CROSSFADE = 6  # frames of cross-fade between two clips of the footage
_STYLE_SALT = 0x5E1F  # separates the style/variant random streams from the plan's


def animal_style(rng: np.random.Generator) -> np.ndarray:
    """Expression style of one animal: factor per emotion and action unit.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        float64 ``(len(EMOTIONS), len(AU_NAMES))``: log-normal gains (sd :data:`STYLE_SD`)
        times 0 for the units the animal does not use (each with probability :data:`DROPOUT`,
        redrawn until every emotion keeps >= 50 % of its profile's norm). Row 0 (neutral) is
        unused.
    """
    gains = rng.lognormal(0.0, STYLE_SD, (len(EMOTIONS), len(AU_NAMES)))
    profiles = np.array([PROFILES[e].au for e in EMOTIONS])
    keep = np.ones(len(AU_NAMES))
    for _ in range(50):
        keep = (rng.random(len(AU_NAMES)) >= DROPOUT).astype(float)
        kept = np.linalg.norm(profiles[1:] * keep, axis=1) / np.linalg.norm(profiles[1:], axis=1)
        if kept.min() >= 0.5:
            break
    else:
        keep = np.ones(len(AU_NAMES))
    return gains * keep[None, :]


def style_cosine(styles: Sequence[np.ndarray], expressivity: Sequence[Sequence[float]]) -> dict:
    """Mean cosine between animals' action-unit vectors of each emotion.

    Parameters
    ----------
    styles : sequence of numpy.ndarray
        Per animal, ``(len(EMOTIONS), len(AU_NAMES))`` factors (:func:`animal_style`; ones for
        the cartoon).
    expressivity : sequence of sequence of float
        Per animal, the per-unit expressivity.

    Returns
    -------
    dict
        ``emotion -> mean cosine`` over all pairs of animals (emotions other than neutral).
    """
    out = {}
    for j, e in enumerate(EMOTIONS[1:], start=1):
        vec = np.array(
            [np.asarray(PROFILES[e].au) * s[j] * np.asarray(x) for s, x in zip(styles, expressivity,
                                                                              strict=True)]
        )  # fmt: skip
        unit = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
        cos = unit @ unit.T
        iu = np.triu_indices(len(vec), 1)
        out[e] = float(cos[iu].mean()) if len(iu[0]) else 1.0
    return out


def variant(index: int, rng: np.random.Generator, *, mirror: bool = False) -> Variant:
    """Variant ``index`` of an identity (0 = the footage as is).

    Later variants: zoom 0.9-1.12, crop offset +-5 % of the footage size, gamma 0.8-1.25,
    contrast 0.85-1.15; with ``mirror`` every odd one is also mirrored (it then faces right:
    off by default, because on one rig all mice face the same way and HOG features of a
    mirrored face do not transfer to the others).
    """
    if index == 0:
        return Variant()
    return Variant(
        scale=float(rng.uniform(0.9, 1.12)),
        offset=(float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.05, 0.05))),
        gamma=float(rng.uniform(0.8, 1.25)),
        contrast=float(rng.uniform(0.85, 1.15)),
        mirror=bool(mirror and index % 2 == 1),
    )


def playback(
    footage: FaceFootage, n: int, *, fps: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which footage frames make each output frame: a continuous loop without jumps.

    Clips are visited in random order (all before any repeats); each is played forward and then
    backward (ping-pong, a turn rather than a jump); consecutive clips are cross-faded over
    :data:`_CROSSFADE` frames. The footage plays at its own frame rate whatever ``fps``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(a, b, w)``, each ``(n,)``: frame ``i`` is ``(1 - w[i]) * frames[a[i]] + w[i] *
        frames[b[i]]`` (``w`` = 0 outside cross-fades).
    """
    step = footage.fps / fps
    need = int(np.ceil(n * step)) + 2
    seq_a: list[np.ndarray] = []
    seq_b: list[np.ndarray] = []
    seq_w: list[np.ndarray] = []
    total = 0
    order: list[int] = []
    while total < need:
        if not order:
            order = list(rng.permutation(len(footage.clips)))
        s, e = footage.clips[order.pop()]
        fwd = np.arange(s, e)
        seg = np.concatenate([fwd, fwd[-2:0:-1]]) if len(fwd) > 2 else fwd
        if rng.random() < 0.5:
            seg = seg[::-1]
        x = min(_CROSSFADE, len(seg) // 3) if seq_a else 0
        if x:
            # blend the end of the previous segment into the start of this one
            prev_a = seq_a[-1]
            tail = prev_a[-x:].copy()
            seq_a[-1] = prev_a[:-x]
            seq_b[-1] = seq_b[-1][:-x]
            seq_w[-1] = seq_w[-1][:-x]
            total -= x
            w = (np.arange(1, x + 1) / (x + 1)).astype(float)
            seq_a.append(tail)
            seq_b.append(seg[:x])
            seq_w.append(w)
            total += x
            seg = seg[x:]
        seq_a.append(seg)
        seq_b.append(seg)
        seq_w.append(np.zeros(len(seg)))
        total += len(seg)
    a, b, w = (np.concatenate(v) for v in (seq_a, seq_b, seq_w))
    pick = np.minimum(np.round(np.arange(n) * step).astype(int), len(a) - 1)
    return a[pick], b[pick], w[pick]


def _styled(tl: Timeline, style: np.ndarray, anatomy: Anatomy) -> Timeline:
    """The timeline with the animal's style: ``au += sum_e amp_e * profile_e * (style_e - 1)
    * expressivity`` (exact: the timeline's expression is linear in the amplitudes)."""
    profiles = np.array([PROFILES[e].au for e in EMOTIONS])
    delta = profiles * (style - 1.0) * np.asarray(anatomy.expressivity)[None, :]
    return dataclasses.replace(tl, au=tl.au + tl.amplitude @ delta)


def _extra_nuisance(
    tl: Timeline, length: float, fps: float, rng: np.random.Generator
) -> tuple[Timeline, np.ndarray]:
    """Brief paw swipes anywhere (also inside trial windows) and head yaw (AR(1), tau 1.5 s,
    sd 1.5 %, clipped to +-4 %)."""
    n = len(tl.time)
    swipes = _bouts(rng, length, rate=1 / 60, dur=(0.3, 0.8))
    paw = np.maximum(tl.paw, 0.8 * _envelope(tl.time, swipes, 0.1))
    yaw = np.clip(_ar1(rng, n, tau=1.5, sd=0.015, fps=fps), -0.04, 0.04)
    return dataclasses.replace(tl, paw=paw), yaw


def _frames(
    r: RealFaceRenderer, tl: Timeline, yaw: np.ndarray, src: tuple[np.ndarray, ...]
) -> Iterator[np.ndarray]:
    frames = r.footage.frames
    a, b, w = src
    for i in range(len(tl.time)):
        if w[i] > 0:
            base = cv2.addWeighted(frames[a[i]], 1.0 - float(w[i]), frames[b[i]], float(w[i]), 0)
        else:
            base = frames[a[i]]
        yield r.render(
            base,
            tl.au[i],
            blink=float(tl.blink[i]),
            tongue=float(tl.tongue[i]),
            paw=float(tl.paw[i]),
            paw_phase=float(tl.paw_phase[i]),
            dx=float(tl.dx[i]),
            dy=float(tl.dy[i]),
            rotation=float(tl.rotation[i]),
            yaw=float(yaw[i]),
            gain=float(tl.gain[i]),
            noise=int(tl.noise[i]),
        )


def write_real_sessions(
    out: str | os.PathLike[str],
    planned: list[tuple[Anatomy, list[tuple[SessionPlan, np.random.Generator]]]],
    *,
    faces: str | os.PathLike[str] | Sequence[FaceFootage] = "real",
    size: tuple[int, int],
    fps: float,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict], list[pd.DataFrame], list[dict]]:
    """Render and write the sessions of a planned dataset from real faces.

    Writes ``videos/<session>.mp4``, ``events/<session>.tsv``, ``truth/<session>.parquet``
    (same columns as the cartoon's) and ``truth/landmarks/<session>.parquet`` (``frame``,
    ``time``, ``<landmark>_x``, ``<landmark>_y`` in output pixels, ``yaw``) and
    ``pose/<session>.h5`` (DeepLabCut keypoints, :mod:`mouseface.synth.pose`) under ``out``.

    Parameters
    ----------
    out : str or os.PathLike
        Dataset folder (``videos``, ``events``, ``truth`` exist).
    planned : list
        ``(anatomy, [(session plan, generator), ...])`` per animal, as ``generate_dataset``
        plans them (the anatomy's ``expressivity`` and ``seed`` are used; its drawing traits
        are not).
    faces : str, os.PathLike or sequence of FaceFootage, optional
        ``"real"`` (the shipped mice), a video/folder (:func:`~mouseface.synth.faces.
        load_faces`) or loaded footage.
    size : tuple of int
        Frame ``(height, width)``.
    fps : float
        Frame rate.
    seed : int
        The dataset's seed (styles and variants are drawn from it, apart from the plan).
    progress : callable or None
        Called with 1 per frame rendered.

    Returns
    -------
    tuple
        ``(sessions, trials, animals)``: yaml session entries (with ``subject``), per-session
        trial tables and per-animal rows for ``truth/animals.parquet``.

    Raises
    ------
    mouseface.errors.InputError
        If the faces cannot be loaded or a face's landmarks cannot be found.
    """
    out = Path(out)
    (out / "truth" / "landmarks").mkdir(parents=True, exist_ok=True)
    footage = list(faces) if not isinstance(faces, str | os.PathLike) else load_faces(faces)
    landmarks = [find_landmarks(f.median(), name=f.source) for f in footage]
    k = min(size[0] / 240.0, size[1] / 320.0)
    renderers, styles = [], []
    for i, (anatomy, _) in enumerate(planned):
        rng = np.random.default_rng([seed, _STYLE_SALT, i])
        ident = i % len(footage)
        var = variant(i // len(footage), rng)
        styles.append(animal_style(rng))
        renderers.append(
            RealFaceRenderer(
                footage[ident],
                size=size,
                variant=var,
                landmarks=landmarks[ident],
                seed=int(anatomy.seed),
            )
        )
    rois = equal_rois([r.face_box for r in renderers], size)
    sessions: list[dict] = []
    trials: list[pd.DataFrame] = []
    animals: list[dict] = []
    for i, ((anatomy, pairs), r, roi, style) in enumerate(
        zip(planned, renderers, rois, styles, strict=True)
    ):
        ident = r.footage.identity
        row: dict = {"name": anatomy.name, "identity": ident, "variant": i // len(footage)}
        row |= {f"variant_{k_}": v for k_, v in dataclasses.asdict(r.variant).items()}
        row["variant_offset_x"], row["variant_offset_y"] = row.pop("variant_offset")
        row["seed"] = anatomy.seed
        row |= {f"expressivity_{n}": g for n, g in zip(AU_NAMES, anatomy.expressivity,
                                                       strict=True)}  # fmt: skip
        for j, e in enumerate(EMOTIONS[1:], start=1):
            row |= {f"style_{e}_{n}": float(style[j, u]) for u, n in enumerate(AU_NAMES)}
        row |= {f"uses_{n}": bool(style[1:, u].any()) for u, n in enumerate(AU_NAMES)}
        neutral = r.landmarks_at(np.zeros(len(AU_NAMES)))
        for n, (x, y) in zip(LANDMARK_NAMES, neutral, strict=True):
            row[f"{n}_x"], row[f"{n}_y"] = float(x), float(y)
        animals.append(row)
        for s_i, (plan, prng) in enumerate(pairs):
            tl = _styled(session_timeline(plan, anatomy, fps=fps, k=k, rng=prng), style, anatomy)
            nrng = np.random.default_rng([seed, _STYLE_SALT, i, s_i + 1])
            tl, yaw = _extra_nuisance(tl, plan.duration, fps, nrng)
            src = playback(r.footage, len(tl.time), fps=fps, rng=nrng)
            tr, entry = write_session_files(
                out,
                plan,
                tl,
                _frames(r, tl, yaw, src),
                lambda r=r, tl=tl, yaw=yaw: real_keypoints(r, tl, yaw),
                roi=roi,
                index=(i, s_i),
                fps=fps,
                k=k,
                seed=seed,
                subject=ident,
                progress=progress,
            )
            track = r.landmark_track(tl.au, dx=tl.dx, dy=tl.dy, rotation=tl.rotation, yaw=yaw)
            lm = {"frame": np.arange(len(tl.time), dtype=np.int64), "time": tl.time}
            for j, n in enumerate(LANDMARK_NAMES):
                lm[f"{n}_x"] = track[:, j, 0].astype(np.float32)
                lm[f"{n}_y"] = track[:, j, 1].astype(np.float32)
            lm["yaw"] = yaw.astype(np.float32)
            write_parquet_atomic(
                out / "truth" / "landmarks" / f"{plan.id}.parquet", pd.DataFrame(lm)
            )
            trials.append(tr)
            sessions.append(entry)
    return sessions, trials, animals
