"""Apply a prototype library to a new video (private; public API in :mod:`mouseface.library.store`).

Steps: crop (ROI) -> the median of the first frames is resized to the library's face size and
registered onto the library's reference faces (the best-matching animal's face) -> every frame
is resized and warped the same way -> HOG with the library's parameters -> per frame:

- ``change`` = 1 - r with the video's own neutral prototype (mean HOG of the baseline-window
  frames when events are given, else of all frames);
- ``strength_<e>`` = Pearson r with the library's pooled prototype ``e`` (as ``frames.parquet``);
- ``match_<e>`` = Pearson r between the frame's displacement from its own neutral and the
  library's direction ``prototype_e - prototype_neutral`` (animal-independent: a new animal's
  face differs from the library's animals, its movements much less);
- ``change_z`` = robust z-score of ``change`` against the baseline frames (all frames without
  events);
- ``predicted`` and ``p_<class>``: the decoders' neutral gate with the same threshold as the
  pipeline and the analyses (:data:`mouseface.decoding.GATE_THRESHOLD`, ``change_z <= 2`` is
  ``"neutral"``), the other frames named by a nearest-prototype classifier
  (:class:`~mouseface.decoding.PrototypeClassifier`) whose prototypes are the library's
  directions ``prototype_e - prototype_neutral``: the emotion with the highest ``match``.
  (Until now the gate here was 3 robust SD, the analyses' 5.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.decoding import GATE_THRESHOLD, ChangeGatedClassifier, PrototypeClassifier
from mouseface.decoding.perframe import trial_calls
from mouseface.errors import InputError
from mouseface.expression.prototypes import pearson_matrix, pearson_rows, session_neutral
from mouseface.expression.trials import trial_table, window_masks
from mouseface.face.registration import Transform, apply_transform, estimate_transform
from mouseface.face.roi import check_roi, parse_roi, propose_roi
from mouseface.features.extract import extract_features, resize_faces
from mouseface.features.quality import robust_z
from mouseface.io.events import read_events
from mouseface.io.feature_store import ROWS, iter_hog, open_hog
from mouseface.io.outputs import atomic_dir, write_json_atomic, write_parquet_atomic
from mouseface.io.video import VideoReader, probe_video
from mouseface.library.store import Library, load_library

__all__ = ["LibraryResult", "apply_library"]


@dataclass
class LibraryResult:
    """What :func:`apply_library` wrote and found.

    Attributes
    ----------
    out : Path
        Output folder (``frames.parquet``, ``trials.parquet`` with events, ``features.zarr``,
        ``library_apply.json``).
    frames : DataFrame
        Per frame: frame, time, motion, good, change, change_z, strength_<e>, match_<e>,
        predicted, p_<class>.
    trials : DataFrame or None
        Per trial (with events): as ``trials.parquet`` of a run, plus ``emotion`` from the
        library's stimulus map and ``predicted`` (the emotion most of the response window's
        frames are named, ``neutral`` if none: the pipeline's rule).
    transform : Transform
        Registration of the video's face onto the library's reference face.
    reference : str
        Animal whose reference face was used.
    """

    out: Path
    frames: pd.DataFrame
    trials: pd.DataFrame | None
    transform: Transform
    reference: str


def _first_frames(video: Path, roi, *, n: int = 32) -> np.ndarray:
    return next(VideoReader(video, roi=roi, chunk_size=n).chunks(warn=False)).frames


def _resolve_roi(video: Path, roi) -> tuple[int, int, int, int] | None:
    roi = parse_roi(roi) if isinstance(roi, str) or roi is None else roi
    info = probe_video(video)
    if roi == "auto":
        return propose_roi(_first_frames(video, None, n=300)[::3])
    if roi is None:
        return None
    return check_roi(roi, (info.height, info.width), source=str(video))


def _register(lib: Library, median: np.ndarray) -> tuple[Transform, str]:
    face = resize_faces(median[None], lib.face_shape)[0]
    best, errors = None, []
    for name, ref in zip(lib.animals, lib.animal_faces, strict=False):
        try:
            t = estimate_transform(face, ref)
        except InputError as exc:
            errors.append(f"{name}: {exc}")
            continue
        if best is None or t.score > best[0].score:
            best = (t, name)
    if best is None:
        raise InputError(
            "the video's face does not match any reference face of the library; check the ROI "
            "(the same side view of the face) — " + "; ".join(errors[:2])
        )
    return best


def _stabiliser(lib: Library, t: Transform) -> Callable:
    def warp(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        faces = resize_faces(frames, lib.face_shape)
        out = np.stack([apply_transform(f, t, output_shape=lib.face_shape) for f in faces])
        return out, np.zeros((len(frames), 2), dtype=np.float32)

    return warp


def library_decoder(lib: Library, *, gate: float = GATE_THRESHOLD) -> ChangeGatedClassifier:
    """The gated nearest-prototype decoder of a library (fitted; no training frames needed).

    Input rows are ``[change_z, HOG - the video's neutral prototype]``; the prototypes are the
    library's directions ``prototype_e - prototype_neutral`` (one per emotion).
    """
    emotions = np.asarray(lib.emotions[1:], dtype=object)
    D = np.asarray(lib.prototypes[1:], dtype=np.float64) - lib.prototypes[0]
    order = np.argsort(emotions)
    inner = PrototypeClassifier.from_prototypes(emotions[order], D[order])
    est = ChangeGatedClassifier(inner, threshold=gate)
    est.estimator_ = inner
    est.classes_ = np.unique(np.concatenate([emotions, ["neutral"]]).astype(object))
    est.n_gated_ = 0
    est.n_features_in_ = D.shape[1] + 1
    return est


def apply_library(
    library: Library | str | os.PathLike[str],
    video: str | os.PathLike[str],
    events: str | os.PathLike[str] | pd.DataFrame | None,
    out: str | os.PathLike[str],
    *,
    roi: tuple[int, int, int, int] | str | None = None,
    fps: float = 30.0,
    chunk_size: int = 256,
    n_jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> LibraryResult:
    """Strength of every frame of a video against a library's prototypes.

    Parameters
    ----------
    library : Library or path
        A :class:`~mouseface.library.store.Library` or a library file.
    video : path
        Video of a face from the same side as the library's (any FFmpeg format).
    events : path, DataFrame or None
        Events table (onset, duration, trial_type, ...). Gives the baseline frames of the
        video's neutral prototype and a per-trial table; None uses all frames as neutral.
    out : path
        Output folder (created).
    roi : (x, y, w, h), "auto" or None
        Face crop in the video's pixels (None = the whole frame).
    fps : float
        Frame rate of an image folder.
    chunk_size, n_jobs : int
        Frames per chunk, HOG threads.
    progress : callable, optional
        Called with the number of frames done.

    Returns
    -------
    LibraryResult
    """

    lib = library if isinstance(library, Library) else load_library(library)
    video, out = Path(video), Path(out)
    box = _resolve_roi(video, roi)
    ev = events if isinstance(events, pd.DataFrame) or events is None else read_events(events)
    if "keypoints" in lib.features:
        raise InputError(
            f"{video}: the library's features {list(lib.features)} include keypoints, which "
            "'library apply' cannot compute from a video alone; build the library from a run "
            "with features: [hog] or [hog, flow]"
        )
    t, ref_name = _register(lib, np.median(_first_frames(video, box), axis=0).astype(np.uint8))
    out.mkdir(parents=True, exist_ok=True)
    store = out / "features.zarr"
    with atomic_dir(store) as tmp:
        res = extract_features(
            video, tmp, roi=box, face_shape=lib.face_shape, hog_params=lib.hog,
            feature_sets=lib.features, flow_params=lib.flow or None,
            stabiliser=_stabiliser(lib, t), chunk_size=chunk_size, n_jobs=n_jobs, fps=fps,
            progress=progress, attrs={"library": lib.provenance.get("source_folder", ""),
                                      "registration": t.as_dict()},
        )  # fmt: skip
    hog_arr = open_hog(store)
    if hog_arr.shape[1] != lib.n_features:
        raise InputError(
            f"{video}: feature length {hog_arr.shape[1]} differs from the library's "
            f"{lib.n_features}; the library's feature parameters or face size were not applied"
        )
    times, good = res.times, ~(res.dark | res.saturated)
    masks = None
    if ev is not None:
        ev = ev.copy()
        windows = {k: tuple(v) for k, v in (lib.windows or {}).items()} or {
            "baseline": (-2.0, 0.0), "response": (0.0, 2.0)}  # fmt: skip
        masks = window_masks(times, ev, windows=windows, source=str(events))
        base = np.zeros(len(times), bool)
        for m in masks["baseline"]:
            base |= m
    else:
        base = np.ones(len(times), bool)
    use = base & good if (base & good).any() else base
    neutral = session_neutral(hog_arr, base, good)
    emotions = list(lib.emotions[1:])
    P = lib.prototypes[1:]
    D = P - lib.prototypes[0]
    n = len(times)
    change = np.empty(n, np.float32)
    strength = np.empty((n, len(emotions)), np.float32)
    match = np.empty_like(strength)
    for i, block in iter_hog(hog_arr):
        block = block.astype(np.float64)
        change[i : i + len(block)] = 1.0 - pearson_rows(block, neutral)
        strength[i : i + len(block)] = pearson_matrix(block, P)
        match[i : i + len(block)] = pearson_matrix(block - neutral, D)
    change_z = robust_z(change, change[use])
    decoder = library_decoder(lib)
    predicted = np.empty(n, dtype=object)
    as_changed = np.empty(n, dtype=object)
    proba = np.zeros((n, len(decoder.classes_)))
    for i in range(0, n, ROWS):
        block = hog_arr[i : i + ROWS].astype(np.float64) - neutral
        X = np.hstack([change_z[i : i + len(block), None], block])
        predicted[i : i + len(block)] = decoder.predict(X)
        as_changed[i : i + len(block)] = decoder.predict_changed(X)
        proba[i : i + len(block)] = decoder.predict_proba(X)
    frames = pd.DataFrame({"frame": np.arange(n), "time": times, "motion": res.motion,
                           "good": good, "change": change, "change_z": change_z})  # fmt: skip
    for j, e in enumerate(emotions):
        frames[f"strength_{e}"] = strength[:, j]
    for j, e in enumerate(emotions):
        frames[f"match_{e}"] = match[:, j]
    frames["predicted"] = predicted.astype(str)
    for j, c in enumerate(decoder.classes_):
        frames[f"p_{c}"] = proba[:, j]
    write_parquet_atomic(out / "frames.parquet", frames)
    trials = None
    if ev is not None:
        trials = _trials(ev, times, change, strength, emotions, good, masks, predicted, lib,
                         decoder.classes_, as_changed, change_z)  # fmt: skip
        write_parquet_atomic(out / "trials.parquet", trials)
    write_json_atomic(
        out / "library_apply.json",
        {"video": str(video), "roi": list(box) if box else None, "reference_animal": ref_name,
         "registration": t.as_dict(), "gate_change_z": decoder.threshold,
         "n_frames": n, "library": lib.provenance, "events": None if events is None or
         isinstance(events, pd.DataFrame) else str(events)},
    )  # fmt: skip
    return LibraryResult(out=out, frames=frames, trials=trials, transform=t, reference=ref_name)


def _trials(
    ev,
    times,
    change,
    strength,
    emotions,
    good,
    masks,
    predicted,
    lib,
    classes,
    as_changed,
    change_z,
) -> pd.DataFrame:  # noqa: ANN001
    table = trial_table(
        ev, times, change, {e: strength[:, j] for j, e in enumerate(emotions)}, good=good,
        masks=masks,
    )  # fmt: skip
    table.insert(2, "emotion", [lib.stimuli.get(t, t) for t in ev["trial_type"]])
    windows = tuple((lib.windows or {}).get("response", (0.0, 2.0)))
    call, _ = trial_calls(
        times, ev["onset"].to_numpy(float), windows, predicted, good, classes,
        as_changed=as_changed, change_z=change_z,
    )  # fmt: skip
    table["predicted"] = call
    return table
