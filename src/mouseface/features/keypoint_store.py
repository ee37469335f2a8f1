"""Keypoint features of a session's pose file, written as the ``keypoints`` set of its features.

:func:`add_keypoints` reads the pose file (:func:`mouseface.io.pose.read_pose`: DeepLabCut,
SLEAP or Lightning Pose through ``movement``, confidence filtering and short-gap interpolation),
checks it against the store's frames (one pose row per decoded video frame; the pose file's
nominal frame rate, when given, against the video's timestamps), computes the keypoint features
(:func:`mouseface.features.keypoints.keypoint_features`) and appends them to a
``features.zarr`` written by :func:`mouseface.features.extract.extract_features` as the array
``keypoints`` (dims ``frame``, ``keypoints_feature``). The store's ``feature_sets`` and
``feature_weights`` attributes then say how the sets stack (see
:mod:`mouseface.io.feature_store`).

Two choices make the features usable by the correlation-based readout:

- the ear angle is stored in radians (``ear_angle_rad``), so that all keypoint features are of
  the order of one head unit (degrees would make the ear angle the whole vector);
- points missing after the pose file's own gap filling (long occlusions) are filled by linear
  interpolation between the nearest frames that have them (held at the ends), because a NaN
  would make a frame's Pearson r undefined; their count is stored in the attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from mouseface.errors import InputError
from mouseface.features.keypoints import FEATURE_GROUPS, keypoint_features, required_keypoints
from mouseface.io.pose import read_pose

__all__ = ["KeypointResult", "check_pose", "add_keypoints"]

_ROWS = 65536


@dataclass(frozen=True)
class KeypointResult:
    """What :func:`add_keypoints` wrote.

    Attributes
    ----------
    names : tuple of str
        Feature names, in column order of the ``keypoints`` array.
    n_frames : int
        Rows written (= the store's frames).
    n_low_confidence : int
        Keypoint positions dropped for low confidence (before gap filling).
    n_filled : int
        Feature values still missing after the pose file's gap filling, filled from the nearest
        frames.
    """

    names: tuple[str, ...]
    n_frames: int
    n_low_confidence: int
    n_filled: int


def _fill_gaps(values: np.ndarray, names: Sequence[str], source: str) -> tuple[np.ndarray, int]:
    """Linear interpolation over frames of each column's NaN (ends held); InputError if a column
    is never finite."""
    out = values.copy()
    frames = np.arange(len(out))
    n_filled = 0
    for j, name in enumerate(names):
        ok = np.isfinite(out[:, j])
        if ok.all():
            continue
        if not ok.any():
            raise InputError(
                f"{source}: keypoint feature '{name}' is missing in every frame (its keypoints "
                "are never tracked with enough confidence); lower pose.confidence_threshold, "
                "or leave its group out of keypoints.groups"
            )
        n_filled += int((~ok).sum())
        out[~ok, j] = np.interp(frames[~ok], frames[ok], out[ok, j])
    return out, n_filled


def check_pose(
    pose: str | Path,
    *,
    n_frames: int | None,
    groups: Sequence[str] = tuple(FEATURE_GROUPS),
    software: str | None = None,
    individual: str | None = None,
    aliases: Mapping[str, str] | None = None,
    fps: float | None = None,
) -> int:
    """Check a pose file before any work: readable, one row per video frame, needed keypoints.

    Parameters
    ----------
    pose : str or Path
        The pose file.
    n_frames : int or None
        The video's exact frame count when its container announces one; None skips the count
        (:func:`add_keypoints` checks it against the decoded frames).
    groups, software, individual, aliases
        As for :func:`add_keypoints`.
    fps : float or None
        The pose file's nominal frame rate (only checked to be positive here).

    Returns
    -------
    int
        The pose file's frame count.

    Raises
    ------
    InputError
        As :func:`add_keypoints` does for the file, its frame count and its keypoint names.
    """
    positions = read_pose(
        pose,
        software=software,
        individual=individual,
        n_frames=n_frames,
        fps=fps,
        confidence_threshold=None,
        max_gap=0,
    )
    names = [str(k) for k in positions.coords["keypoint"].values]
    have = {(aliases or {}).get(k, k) for k in names}
    missing = [k for k in required_keypoints(groups) if k not in have]
    if missing:
        raise InputError(
            f"{pose}: keypoint(s) {', '.join(missing)} needed by the feature groups "
            f"{', '.join(groups)} are missing (keypoints in the file: {', '.join(names)}); map "
            f"the file's names onto these with aliases, e.g. pose: {{path: ..., aliases: "
            f"{{YourName: {missing[0]}}}}} in mouseface.yaml, or leave out the groups that need "
            "them (keypoints: {groups: [...]})"
        )
    return int(positions.sizes["time"])


def add_keypoints(
    store: str | Path,
    pose: str | Path,
    *,
    feature_sets: Sequence[str],
    weight: float = 1.0,
    groups: Sequence[str] = tuple(FEATURE_GROUPS),
    software: str | None = None,
    individual: str | None = None,
    confidence_threshold: float | None = 0.6,
    max_gap: int | None = 5,
    fps: float | None = None,
    aliases: Mapping[str, str] | None = None,
    attrs: Mapping | None = None,
) -> KeypointResult:
    """Compute a pose file's keypoint features and add them to a feature store.

    Parameters
    ----------
    store : str or Path
        A ``features.zarr`` folder written by
        :func:`~mouseface.features.extract.extract_features` (opened for writing; pass the
        temporary folder of an atomic write, so that a failure leaves an earlier store intact).
    pose : str or Path
        The session's pose file (see :func:`mouseface.io.pose.read_pose`).
    feature_sets : sequence of str
        The run's feature sets in stacking order (must include ``keypoints``); stored as the
        store's ``feature_sets`` attribute.
    weight : float
        Factor on the keypoint features when stacked (``feature_weights["keypoints"]``).
    groups : sequence of str
        Keypoint feature groups (:data:`mouseface.features.keypoints.FEATURE_GROUPS`).
    software, individual, confidence_threshold, max_gap, fps
        Passed to :func:`~mouseface.io.pose.read_pose` (``fps``: the pose file's nominal frame
        rate, checked against the store's frame times; None = not checked).
    aliases : mapping, optional
        ``{name in the pose file: standard keypoint name}``.
    attrs : mapping, optional
        Extra entries for the ``keypoints`` attribute of the store (e.g. the pose file's SHA256).

    Returns
    -------
    KeypointResult

    Raises
    ------
    InputError
        The pose file is missing or unreadable, its frame count differs from the store's (or
        its times drift from the video's), it lacks keypoints the groups need, or a feature is
        never finite.
    """
    if "keypoints" not in feature_sets:
        raise ValueError(f"feature_sets {list(feature_sets)} do not include 'keypoints'")
    if not weight > 0:
        raise ValueError(f"weight must be > 0, got {weight!r}")
    g = zarr.open_group(str(store), mode="r+", use_consolidated=False)
    times = np.asarray(g["time"][:], dtype=np.float64)
    decode_error = g.attrs.get("decode_error")
    kw = {
        "software": software,
        "individual": individual,
        "confidence_threshold": confidence_threshold,
        "max_gap": max_gap,
        "fps": fps,
    }
    if decode_error is None:
        positions = read_pose(pose, frame_times=times, **kw)
    else:
        # the video broke early: its first frames are still the pose file's first rows
        positions = read_pose(pose, **kw)
        if positions.sizes["time"] < len(times):
            raise InputError(
                f"{pose}: the pose file has {positions.sizes['time']} frames but the video "
                f"decodes {len(times)} (it stopped at frame {decode_error.get('frame')}); a "
                "pose file must hold one row per video frame: run the pose estimation on this "
                "session's video, or pair the right file with the video"
            )
        positions = positions.isel(time=slice(0, len(times)))
    values, names = keypoint_features(
        positions.values,
        [str(k) for k in positions.coords["keypoint"].values],
        groups=groups,
        aliases=aliases,
        source=str(pose),
    )
    names = ["ear_angle_rad" if n == "ear_angle" else n for n in names]
    if "ear_angle_rad" in names:
        j = names.index("ear_angle_rad")
        values[:, j] = np.deg2rad(values[:, j])
    values, n_filled = _fill_gaps(values, names, str(pose))
    d = values.shape[1]
    g.create_array(
        "keypoints",
        data=values.astype(np.float32),
        chunks=(min(_ROWS, max(len(values), 1)), d),
        attributes={
            "_ARRAY_DIMENSIONS": ["frame", "keypoints_feature"],
            "coordinates": "time",
            "features": list(names),
        },
    )
    n_low = int(positions.attrs.get("n_low_confidence", 0))
    weights = dict(g.attrs.get("feature_weights") or {})
    weights["keypoints"] = float(weight)
    g.attrs.update(
        {
            "feature_sets": list(feature_sets),
            "feature_weights": weights,
            "keypoints": {
                "pose_file": str(pose),
                "source_software": str(positions.attrs.get("source_software", "")),
                "groups": list(groups),
                "features": list(names),
                "confidence_threshold": confidence_threshold,
                "max_gap": max_gap,
                "aliases": dict(aliases or {}),
                "n_low_confidence": n_low,
                "n_filled": n_filled,
                **dict(attrs or {}),
            },
        }
    )
    zarr.consolidate_metadata(str(store))
    return KeypointResult(
        names=tuple(names), n_frames=len(values), n_low_confidence=n_low, n_filled=n_filled
    )
