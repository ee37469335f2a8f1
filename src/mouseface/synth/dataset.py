"""Generate a synthetic multi-animal, multi-session dataset with known ground truth.

The layout is what ``mouseface run`` reads (``mouseface.yaml`` with relative paths) plus the
ground truth::

    out/
      mouseface.yaml
      videos/<session>.mp4        H.264, gray, yuv420p
      events/<session>.tsv        onset, duration, trial_type, intensity, state, trial
      pose/<session>.h5           DeepLabCut keypoints of the face (tracking noise added)
      truth/<session>.parquet     per frame: emotion, amplitude, action units, nuisance flags
      truth/trials.parquet        per trial: session, animal, emotion, intensity, amplitude, ...
      truth/animals.parquet       per animal: anatomy traits

See ``docs/synth.md`` for the design and the literature behind the emotion profiles.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from mouseface.errors import InputError
from mouseface.features.keypoints import KEYPOINT_NAMES
from mouseface.io.outputs import write_parquet_atomic, write_text_atomic
from mouseface.synth._schedule import (
    LICL_TAIL,
    SessionPlan,
    animal_emotion_gain,
    plan_animal,
    plan_paired,
)
from mouseface.synth._session_files import equal_rois, write_session_files
from mouseface.synth._timeline import Timeline, session_timeline
from mouseface.synth.anatomy import Anatomy, random_anatomy
from mouseface.synth.faces import FaceFootage
from mouseface.synth.neural import add_neural_data
from mouseface.synth.opto import OPTO_SUFFIX, laser_table, plan_opto
from mouseface.synth.pose import frame_pose, shape_keypoints
from mouseface.synth.profiles import AU_NAMES, STIMULUS_EMOTION
from mouseface.synth.real_dataset import write_real_sessions
from mouseface.synth.render import FaceRenderer

__all__ = ["generate_dataset", "planned_frames"]

_STATES = ("thirsty", "sated")


def _check(
    n_animals: int,
    fps: float,
    size: tuple[int, int],
    tps: int,
    states: tuple[str, ...],
    licl_tail: float = LICL_TAIL,
) -> None:
    if not (isinstance(n_animals, int | np.integer) and n_animals >= 1):
        raise InputError(f"generate_dataset: n_animals must be an int >= 1, got {n_animals!r}")
    if not fps > 0:
        raise InputError(f"generate_dataset: fps must be > 0, got {fps!r}")
    if len(size) != 2 or min(size) < 48 or size[0] % 2 or size[1] % 2:
        raise InputError(
            f"generate_dataset: size must be (height, width), both even and >= 48 px (H.264 "
            f"yuv420p needs even sizes), got {size!r}"
        )
    if not (isinstance(tps, int | np.integer) and tps >= 1):
        raise InputError(f"generate_dataset: trials_per_stimulus must be an int >= 1, got {tps!r}")
    if not (isinstance(licl_tail, int | float) and licl_tail >= 10.0):
        raise InputError(
            f"generate_dataset: licl_tail must be >= 10 s (the malaise face needs time to show), "
            f"got {licl_tail!r}"
        )
    bad = [s for s in states if s not in _STATES]
    if bad or len(set(states)) != len(states):
        raise InputError(
            f"generate_dataset: states must be distinct values from {list(_STATES)}, got "
            f"{list(states)}"
        )


def _plan(
    n_animals: int,
    seed: int,
    trials_per_stimulus: int,
    states: tuple[str, ...],
    pairing: bool = False,
    licl_tail: float = LICL_TAIL,
    opto: bool = False,
    opto_epochs: int = 3,
) -> list[tuple[Anatomy, list[tuple[SessionPlan, np.random.Generator]]]]:
    """Anatomy and (session plan, random generator) pairs per animal, all fixed by ``seed``.

    The ordinary sessions share the animal's generator; the post-pairing session (``pairing``)
    and the optogenetics session (``opto``, :func:`mouseface.synth.opto.plan_opto`) have their
    own, so that adding them leaves the ordinary sessions unchanged.
    """
    children = np.random.SeedSequence(seed).spawn(n_animals)
    out = []
    for i, child in enumerate(children):
        rng = np.random.default_rng(child)
        name = f"m{i + 1}"
        anatomy = random_anatomy(rng, name=name)
        gain = animal_emotion_gain(rng)
        plans = plan_animal(
            name,
            states=tuple(states),
            trials_per_stimulus=trials_per_stimulus,
            emotion_gain=gain,
            rng=rng,
            licl_tail=licl_tail,
        )
        pairs = [(p, rng) for p in plans]
        if pairing:
            pair_rng = np.random.default_rng(child.spawn(1)[0])
            paired = plan_paired(
                name,
                index=len(plans) + 1,
                trials_per_stimulus=trials_per_stimulus,
                emotion_gain=gain,
                rng=pair_rng,
            )
            pairs.append((paired, pair_rng))
        if opto:
            opto_rng = np.random.default_rng([seed, i, 7])
            plan = plan_opto(name, emotion_gain=gain, epochs_per_power=opto_epochs, rng=opto_rng)
            pairs.append((plan[0], opto_rng))
        out.append((anatomy, pairs))
    return out


def planned_opto(
    planned: list[tuple[Anatomy, list[tuple[SessionPlan, np.random.Generator]]]],
) -> dict[str, SessionPlan]:
    """The optogenetics sessions of a plan, by session id."""
    return {p.id: p for _, pairs in planned for p, _ in pairs if p.id.endswith(OPTO_SUFFIX)}


def _opto_entries(out: Path, sessions: list[dict], plans: dict[str, SessionPlan]) -> list[dict]:
    """Laser tables and epoch truth of the opto sessions; their yaml entries name the laser
    table (``opto``) instead of an events file (their epochs are no emotion trials)."""
    entries = []
    for s in sessions:
        plan = plans.get(s["id"])
        if plan is None:
            entries.append(s)
            continue
        laser = laser_table(plan)
        path = out / "opto" / f"{plan.id}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, laser.to_csv(sep="\t", index=False))
        epochs = laser.assign(emotion=plan.trials["emotion"].to_numpy(),
                              amplitude=plan.trials["amplitude"].to_numpy())  # fmt: skip
        write_parquet_atomic(out / "truth" / f"opto_{plan.id}.parquet", epochs)
        entry = {k: v for k, v in s.items() if k not in ("events", "state")}
        entries.append(entry | {"opto": f"opto/{plan.id}.tsv"})
    return entries


def planned_frames(
    *,
    n_animals: int = 4,
    seed: int = 0,
    fps: float = 20.0,
    trials_per_stimulus: int = 3,
    states: tuple[str, ...] = _STATES,
    pairing: bool = False,
    licl_tail: float = LICL_TAIL,
    opto: bool = False,
    opto_epochs: int = 3,
) -> int:
    """Number of frames :func:`generate_dataset` will render with these options (for a
    progress bar's total); cheap, renders nothing."""
    states = tuple(states)
    _check(n_animals, fps, (48, 48), trials_per_stimulus, states, licl_tail)
    plan = _plan(
        n_animals, seed, trials_per_stimulus, states, pairing, licl_tail, opto, opto_epochs
    )
    return sum(int(round(p.duration * fps)) for _, pairs in plan for p, _ in pairs)


def _frames(renderer: FaceRenderer, tl: Timeline, keypoints: np.ndarray) -> Iterator[np.ndarray]:
    """Render every frame; its keypoints go to ``keypoints`` (n, K, 2) from the same outlines."""
    for i in range(len(tl.time)):
        sh = renderer.shapes(tl.au[i], **frame_pose(tl, i))
        keypoints[i] = shape_keypoints(sh.points)
        yield renderer.render(
            tl.au[i], **frame_pose(tl, i), gain=float(tl.gain[i]), noise=int(tl.noise[i]),
            shapes=sh,
        )  # fmt: skip


def _write_cartoon_session(
    out: Path,
    plan: SessionPlan,
    rng: np.random.Generator,
    anatomy: Anatomy,
    renderer: FaceRenderer,
    roi: tuple[int, int, int, int],
    index: tuple[int, int],
    fps: float,
    k: float,
    seed: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, dict, int]:
    """Render and write one cartoon session (video, events, truth, pose file).

    Returns its trial rows, its ``mouseface.yaml`` entry and its number of frames.
    """
    tl = session_timeline(plan, anatomy, fps=fps, k=k, rng=rng)
    keypoints = np.empty((len(tl.time), len(KEYPOINT_NAMES), 2))
    tr, entry = write_session_files(
        out, plan, tl, _frames(renderer, tl, keypoints), lambda: keypoints, roi=roi,
        index=index, fps=fps, k=k, seed=seed, progress=progress,
    )  # fmt: skip
    return tr, entry, len(tl.time)


def _write_cartoon_animal(
    out: Path,
    pairs: list[tuple[SessionPlan, np.random.Generator]],
    anatomy: Anatomy,
    renderer: FaceRenderer,
    roi: tuple[int, int, int, int],
    a_i: int,
    fps: float,
    k: float,
    seed: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[pd.DataFrame], list[dict], int]:
    """Write every session of one cartoon animal, in order; trial rows, yaml entries, frames."""
    trials, entries, frames = [], [], 0
    for s_i, (plan, rng) in enumerate(pairs):
        tr, entry, n = _write_cartoon_session(
            out, plan, rng, anatomy, renderer, roi, (a_i, s_i), fps, k, seed, progress=progress
        )
        trials.append(tr)
        entries.append(entry)
        frames += n
    return trials, entries, frames


def generate_dataset(
    out: str | os.PathLike[str],
    *,
    n_animals: int = 4,
    seed: int = 0,
    fps: float = 20.0,
    size: tuple[int, int] = (240, 320),
    trials_per_stimulus: int = 3,
    states: tuple[str, ...] = _STATES,
    pairing: bool = False,
    licl_tail: float = LICL_TAIL,
    progress: Callable[[int], None] | None = None,
    faces: str | os.PathLike[str] | Sequence[FaceFootage] = "real",
    neural: bool = False,
    opto: bool = False,
    opto_epochs: int = 3,
    n_jobs: int = 1,
) -> Path:
    """Render a synthetic dataset of side-view mouse-face videos with ground truth.

    Each animal gets one session per state in ``states``. Every session has sucrose trials
    (pleasure; intensity = concentration in M, levels 0.1, 0.3, 1.0) and ends with a LiCl
    injection (malaise, which persists for minutes); quinine (disgust; mM), tail shock (pain; uA,
    levels 100, 300, 500), freezing (passive fear) and escape (active fear) are spread
    round-robin over the animal's sessions, so that every animal shows all seven classes
    (neutral = the baseline). Onsets are >= 8 s after the end of the previous stimulus.

    Parameters
    ----------
    out : str or os.PathLike
        Output folder (created if needed; existing files of the same names are replaced).
    n_animals : int, optional
        Number of animals (default 4), each with its own anatomy and fur.
    seed : int, optional
        Seed; the same seed gives identical files (default 0).
    fps : float, optional
        Frame rate of the videos, frames per second (default 20).
    size : tuple of int, optional
        Frame ``(height, width)`` in pixels, even, >= 48 (default ``(240, 320)``).
    trials_per_stimulus : int, optional
        Trials of each stimulus in each session that has it (default 3; 1 for quick tests).
    states : tuple of str, optional
        Internal states, one session each: ``"thirsty"`` and/or ``"sated"`` (default both;
        a thirsty mouse shows 1.5x the pleasure of a sated one). ``()`` gives one session per
        animal without state.
    pairing : bool, optional
        Add per animal a post-pairing session (state ``"paired"``, conditioned taste aversion):
        sucrose trials whose face is 65 % disgust and 35 % pleasure (action units), marked in
        ``truth/trials.parquet`` by ``blend_emotion`` and ``blend_share`` (default False; the
        ordinary sessions are identical either way).
    licl_tail : float, optional
        Seconds of video after the LiCl onset, the last stimulus of every session (default 90,
        0.75 of malaise's 120-s decay constant). Longer tails let the time-course analysis see
        more of the decay (360 s = 3 time constants; see ``docs/timecourse.md``) but make every
        session longer; the noise drawn for a session depends on its length.
    progress : callable or None, optional
        Called with the number of frames rendered since its last call (for a progress bar;
        :func:`planned_frames` gives the total).
    n_jobs : int, optional
        Processes rendering cartoon sessions in parallel (-1 = all cores; default 1). The
        files are the same as with one process.
    faces : str, os.PathLike or sequence of FaceFootage, optional
        ``"real"`` (default): every animal is a real mouse face from the footage shipped with
        the package, with the action units applied as image warps
        (:mod:`mouseface.synth.real_dataset`); ``"cartoon"``: the drawn face
        (:class:`FaceRenderer`); a face video or folder of videos (neutral footage, snout to
        the left), or footage loaded with :func:`mouseface.synth.faces.load_face_video`.
    neural : bool, optional
        Simulate two-photon imaging of each animal's first session
        (:func:`mouseface.synth.neural.add_neural_data`; its yaml entry gets ``neural``).
    opto : bool, optional
        Add one optogenetics session per animal (:func:`mouseface.synth.opto.plan_opto`: targets
        evoking a chosen emotion at three powers, sham epochs evoking nothing), rendered with the
        animal's own face; its yaml entry names the laser table (``opto``) and no events.
    opto_epochs : int, optional
        Epochs of each target at each power (default 3).

    Returns
    -------
    pathlib.Path
        Path of ``mouseface.yaml`` in ``out``.

    Raises
    ------
    mouseface.errors.InputError
        If an option is out of range.
    """
    states = tuple(states)
    size = (int(size[0]), int(size[1]))
    _check(n_animals, fps, size, trials_per_stimulus, states, licl_tail)
    out = Path(out)
    for sub in ("videos", "events", "truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    k = min(size[0] / 240.0, size[1] / 320.0)

    sessions, trials, animals = [], [], []
    planned = _plan(
        n_animals, seed, trials_per_stimulus, states, pairing, licl_tail, opto, opto_epochs
    )
    opto_plans = planned_opto(planned)
    if not (isinstance(faces, str) and faces == "cartoon"):  # real mouse faces
        sessions, trials, animals = write_real_sessions(
            out, planned, faces=faces, size=size, fps=fps, seed=seed, progress=progress
        )
        planned = []  # nothing left for the cartoon loop below
    renderers = [FaceRenderer(anatomy, size=size) for anatomy, _ in planned]
    rois = equal_rois([r.face_box for r in renderers], size) if renderers else []
    jobs = []
    for a_i, ((anatomy, pairs), renderer, roi) in enumerate(
        zip(planned, renderers, rois, strict=True)
    ):
        row = asdict(anatomy)
        row |= {f"expressivity_{n}": g for n, g in zip(AU_NAMES, row.pop("expressivity"),
                                                       strict=True)}  # fmt: skip
        row["offset_x"], row["offset_y"] = row.pop("offset")
        animals.append(row)
        jobs.append((out, pairs, anatomy, renderer, roi, a_i, fps, k, seed))
    workers = min(len(jobs), (os.cpu_count() or 1) if n_jobs == -1 else max(1, int(n_jobs)))
    if workers <= 1:
        results = [_write_cartoon_animal(*job, progress=progress) for job in jobs]
    else:
        # animals render in separate processes (spawned: no fork of a threaded parent); an
        # animal's sessions stay in order in one process (they share its random stream), so
        # the files equal a serial run's
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_write_cartoon_animal, *job) for job in jobs]
            results = []
            for fut in futures:
                results.append(fut.result())
                if progress is not None:
                    progress(results[-1][2])
    for tr, entries, _ in results:
        trials += tr
        sessions += entries
    trials = [tr for tr in trials if not tr["session"].str.endswith(OPTO_SUFFIX).any()]
    write_parquet_atomic(out / "truth" / "trials.parquet", pd.concat(trials, ignore_index=True))
    write_parquet_atomic(out / "truth" / "animals.parquet", pd.DataFrame(animals))
    if opto:
        sessions = _opto_entries(out, sessions, opto_plans)
    if neural:
        imaged = add_neural_data(out, seed=seed)
        sessions = [
            s | ({"neural": imaged[s["id"]]} if s["id"] in imaged else {}) for s in sessions
        ]
    config = {
        "sessions": sessions,
        "emotions": dict(STIMULUS_EMOTION),
        "windows": {"baseline": [-2, 0], "response": [0, 2]},
        "fps": float(fps),
    }
    text = (
        "# Synthetic mouse-face dataset (mouseface.synth.generate_dataset, "
        f"seed={seed}); ground truth in truth/\n"
        + yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=100)
    )
    yaml_path = out / "mouseface.yaml"
    write_text_atomic(yaml_path, text)
    return yaml_path
