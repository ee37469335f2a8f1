"""Pose files in and out: DeepLabCut, SLEAP and Lightning Pose keypoints through ``movement``.

:func:`read_pose` loads a pose-estimation file with ``movement.io.load_dataset``, drops
low-confidence points with ``movement.filtering.filter_by_confidence``, fills short gaps with
``movement.filtering.interpolate_over_time``, checks it against the session's video (frame
count, and the nominal frame rate against the video's timestamps) and returns positions as an
``xarray.DataArray`` with dims ``(time, keypoint, space)``.

:func:`write_pose_dlc` saves landmark arrays (e.g. the synthetic generator's ground truth) as a
DeepLabCut ``.h5`` or ``.csv`` file with ``movement.io.save_poses.to_dlc_file``, so the whole
pose path can be tested on synthetic data.

``movement`` takes about three seconds to import, so it is imported inside the functions.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mouseface.errors import InputError

__all__ = ["POSE_SOFTWARE", "read_pose", "write_pose_dlc", "pose_software"]

#: accepted names of the pose software (lower case) -> movement's ``source_software``
POSE_SOFTWARE = {
    "deeplabcut": "DeepLabCut",
    "dlc": "DeepLabCut",
    "sleap": "SLEAP",
    "lightningpose": "LightningPose",
    "lightning_pose": "LightningPose",
    "lp": "LightningPose",
}

_ERRORS = (ValueError, KeyError, OSError, TypeError, IndexError)


def pose_software(path: str | Path, software: str | None = None) -> str:
    """movement's ``source_software`` name for a pose file.

    Parameters
    ----------
    path : str or Path
        The pose file.
    software : str or None
        ``"DeepLabCut"``/``"dlc"``, ``"SLEAP"``, ``"LightningPose"``/``"lp"`` (any case); None
        guesses from the file: ``.slp`` and SLEAP analysis ``.h5`` (a ``tracks`` dataset) are
        SLEAP, other ``.h5`` and ``.csv`` DeepLabCut (Lightning Pose writes the same CSV layout).

    Raises
    ------
    InputError
        Unknown software name or file type.
    """
    path = Path(path)
    if software is not None:
        key = software.strip().lower().replace("-", "").replace(" ", "")
        if key not in POSE_SOFTWARE:
            raise InputError(
                f"{path}: unknown pose software {software!r}; use DeepLabCut, SLEAP or "
                "LightningPose"
            )
        return POSE_SOFTWARE[key]
    suffix = path.suffix.lower()
    if suffix == ".slp":
        return "SLEAP"
    if suffix == ".csv":
        return "DeepLabCut"
    if suffix == ".h5":
        import h5py

        try:
            with h5py.File(path, "r") as f:
                return "SLEAP" if "tracks" in f else "DeepLabCut"
        except OSError as exc:
            raise InputError(
                f"{path}: not a readable HDF5 file ({exc}); give the pose file"
            ) from exc
    raise InputError(
        f"{path}: unknown pose file type '{suffix}'; give a DeepLabCut .h5/.csv, a SLEAP "
        ".slp/.h5 or a Lightning Pose .csv"
    )


def read_pose(
    path: str | Path,
    *,
    software: str | None = None,
    n_frames: int | None = None,
    frame_times: np.ndarray | None = None,
    fps: float | None = None,
    individual: str | None = None,
    confidence_threshold: float | None = 0.6,
    max_gap: int | None = 5,
    time_tolerance: float = 0.5,
) -> Any:
    """Load keypoints of one animal from a pose-estimation file, cleaned and checked.

    Parameters
    ----------
    path : str or Path
        DeepLabCut ``.h5``/``.csv``, SLEAP ``.slp``/analysis ``.h5`` or Lightning Pose ``.csv``.
    software : str or None
        See :func:`pose_software`; None guesses from the file.
    n_frames : int or None
        Frame count of the session's video; the pose file must have exactly this many frames.
        Taken from ``frame_times`` when that is given.
    frame_times : ndarray, shape (n_frames,), or None
        The video's frame times (s); they become the ``time`` coordinate. Without them the
        time is ``frame / fps`` (or the frame index when ``fps`` is None too).
    fps : float or None
        Nominal frame rate of the pose file. With ``frame_times`` it is checked: ``i / fps``
        must stay within ``time_tolerance`` frames of the video's time of frame ``i``.
    individual : str or None
        Animal to take from a multi-animal file (required when there are several).
    confidence_threshold : float or None
        Points with confidence below it become NaN (``filter_by_confidence``); None keeps all.
    max_gap : int or None
        Gaps of up to this many frames are filled by linear interpolation
        (``interpolate_over_time``); 0 fills none, None fills every gap.
    time_tolerance : float
        Allowed drift between pose and video times, in frames.

    Returns
    -------
    xarray.DataArray
        float64 positions in pixels, dims ``(time, keypoint, space)``, coords ``time`` (s, or
        frame index), ``frame`` (int, along time), ``keypoint`` (names), ``space`` (``x``,
        ``y``); attrs: ``source_file``, ``source_software``, ``confidence_threshold``,
        ``max_gap``, ``n_low_confidence`` (points set to NaN), ``n_missing`` (NaN left).

    Raises
    ------
    InputError
        Missing or unreadable file, several animals without ``individual``, a frame count that
        differs from the video's, pose times that drift from the video's timestamps.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: pose file not found; check the 'pose' path in mouseface.yaml")
    source = pose_software(path, software)
    from movement import filtering

    ds = _load(path, source)
    pos, conf = _one_individual(ds, path, individual)
    n = int(pos.sizes["time"])
    if frame_times is not None:
        frame_times = np.asarray(frame_times, dtype=np.float64)
        if n_frames is not None and n_frames != frame_times.size:
            raise InputError(
                f"read_pose: n_frames={n_frames} but frame_times has {frame_times.size} values; "
                "give the same video's frame count and times"
            )
        n_frames = frame_times.size
    if n_frames is not None and n != n_frames:
        raise InputError(
            f"{path}: the pose file has {n} frames but the video has {n_frames}; a pose file "
            "must hold one row per video frame: run the pose estimation on this session's video "
            "(all frames, none skipped) or pair the right file with the video"
        )
    n_low = 0
    if confidence_threshold is not None and conf is not None and bool(conf.notnull().any()):
        before = int(pos.isnull().sum())
        pos = filtering.filter_by_confidence(pos, conf, threshold=float(confidence_threshold))
        n_low = int(pos.isnull().sum()) - before
    if max_gap is None or max_gap > 0:
        pos = filtering.interpolate_over_time(pos, method="linear", max_gap=max_gap)
    out = pos.transpose("time", "keypoints", "space").rename({"keypoints": "keypoint"})
    frames = np.arange(n, dtype=np.int64)
    times = _times(path, frames, frame_times, fps, time_tolerance)
    out = out.assign_coords(time=times, frame=("time", frames))
    out = out.astype(np.float64)
    out.name = "position"
    out.attrs = {
        "source_file": str(path),
        "source_software": source,
        "confidence_threshold": "none" if confidence_threshold is None else confidence_threshold,
        "max_gap": "none" if max_gap is None else int(max_gap),
        "n_low_confidence": n_low,
        "n_missing": int(out.isnull().sum()),
        "time_unit": "seconds" if frame_times is not None or fps else "frames",
    }
    return out


def _load(path: Path, source: str) -> Any:
    import movement.io as mio

    try:
        if hasattr(mio, "load_dataset"):
            return mio.load_dataset(path, source_software=source)
        from movement.io import load_poses  # movement < 0.15

        return load_poses.from_file(path, source_software=source)
    except _ERRORS as exc:
        raise InputError(
            f"{path}: cannot be read as a {source} pose file ({type(exc).__name__}: {exc}); "
            "give the file the software wrote, or name the software (pose: {software: ...} in "
            "mouseface.yaml)"
        ) from exc


def _one_individual(ds: Any, path: Path, individual: str | None) -> tuple[Any, Any]:
    pos = ds["position"]
    conf = ds.get("confidence")
    names = [str(v) for v in pos.coords["individuals"].values]
    if individual is None:
        if len(names) > 1:
            raise InputError(
                f"{path}: the pose file tracks {len(names)} animals ({', '.join(names)}); name "
                "the one whose face is analysed (pose: {individual: ...} in mouseface.yaml)"
            )
        individual = names[0]
    elif individual not in names:
        raise InputError(
            f"{path}: no animal '{individual}' in the pose file (animals: {', '.join(names)})"
        )
    pos = pos.sel(individuals=individual, drop=True)
    if conf is not None:
        conf = conf.sel(individuals=individual, drop=True)
    if "space" in pos.coords and pos.sizes["space"] != 2:
        pos = pos.sel(space=["x", "y"])
    return pos, conf


def _times(
    path: Path,
    frames: np.ndarray,
    frame_times: np.ndarray | None,
    fps: float | None,
    tolerance: float,
) -> np.ndarray:
    if fps is not None and not fps > 0:
        raise InputError(f"{path}: fps must be > 0, got {fps!r}")
    if frame_times is None:
        return frames / fps if fps else frames.astype(np.float64)
    if fps:
        video = frame_times - frame_times[0]
        drift = np.abs(frames / fps - video)
        i = int(np.argmax(drift))
        if drift[i] > tolerance / fps:
            raise InputError(
                f"{path}: at frame {i} the pose file's time ({i / fps:.3f} s at {fps:g} fps) "
                f"differs from the video's ({video[i]:.3f} s) by {drift[i]:.3f} s; give the "
                "video's frame rate, or no fps so that the video's timestamps are used"
            )
    return frame_times.copy()


def write_pose_dlc(
    path: str | Path,
    positions: np.ndarray,
    keypoint_names: Sequence[str],
    *,
    fps: float,
    confidence: np.ndarray | None = None,
    individual: str = "mouse",
) -> Path:
    """Save landmarks as a DeepLabCut pose file (``.h5`` or ``.csv``), atomically.

    Parameters
    ----------
    path : str or Path
        Destination ending in ``.h5`` or ``.csv``; an existing file is replaced once the new one
        is complete.
    positions : ndarray, shape (n_frames, n_keypoints, 2)
        x, y in pixels (NaN for a missing point).
    keypoint_names : sequence of str
        One name per keypoint.
    fps : float
        Frame rate of the video (stored in the dataset; DeepLabCut files keep frame indices).
    confidence : ndarray, shape (n_frames, n_keypoints), or None
        Likelihood per point; None writes 1 (0 where the position is NaN).
    individual : str
        Animal name (DeepLabCut multi-animal header).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        Wrong shapes, names or suffix.
    """
    from movement.io import load_poses, save_poses

    path = Path(path)
    if path.suffix.lower() not in (".h5", ".csv"):
        raise InputError(f"{path}: a DeepLabCut pose file ends in .h5 or .csv")
    pos = np.asarray(positions, dtype=np.float64)
    names = [str(k) for k in keypoint_names]
    if pos.ndim != 3 or pos.shape[2] != 2 or pos.shape[1] != len(names) or not pos.shape[0]:
        raise InputError(
            f"write_pose_dlc({path}): positions must be (n_frames, n_keypoints={len(names)}, 2), "
            f"got {pos.shape}"
        )
    if len(set(names)) != len(names):
        raise InputError(f"write_pose_dlc({path}): keypoint names repeat: {names}")
    if confidence is None:
        conf = np.where(np.isnan(pos).any(axis=2), 0.0, 1.0)
    else:
        conf = np.asarray(confidence, dtype=np.float64)
        if conf.shape != pos.shape[:2]:
            raise InputError(
                f"write_pose_dlc({path}): confidence must be (n_frames, n_keypoints) = "
                f"{pos.shape[:2]}, got {conf.shape}"
            )
    ds = load_poses.from_numpy(
        position_array=pos.transpose(0, 2, 1)[..., None],
        confidence_array=conf[..., None],
        individual_names=[individual],
        keypoint_names=names,
        fps=fps,
        source_software="mouseface",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # movement refuses to overwrite a file: write into a fresh folder beside path, then move
    tmp_dir = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    tmp_dir.mkdir()
    try:
        tmp = tmp_dir / path.name
        save_poses.to_dlc_file(ds, tmp, split_individuals=False)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path
