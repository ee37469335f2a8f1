"""Keypoint features per frame: ear, eye, nose, mouth and whisker-pad geometry in head units.

Input is plain arrays (positions ``(n_frames, n_keypoints, 2)`` in pixels and the keypoint
names), e.g. from :func:`mouseface.io.pose.read_pose` (``pose.values``,
``pose.keypoint.values``), so this module does not depend on any pose-file format.

Keypoint naming (side view of the face; use ``aliases`` to map other names onto these):

==============  ===============================================
``nose``        tip of the nose
``eye_front``   anterior (nasal) corner of the eye
``eye_back``    posterior corner of the eye
``eye_top``     middle of the upper eyelid
``eye_bottom``  middle of the lower eyelid
``ear_base``    base of the ear (front edge, where it meets the head)
``ear_tip``     tip of the ear
``mouth``       corner of the mouth
``whisker_pad`` centre of the whisker pad
==============  ===============================================

Head frame and units. The eye centre (midpoint of ``eye_front`` and ``eye_back``) is the origin;
the forward axis points from ``ear_base`` to the eye centre; the ventral axis is perpendicular
to it and points down in the image when the head is level (fixed per session, so left- and
right-facing views give the same numbers). Distances are divided by the head size: the median
over frames of the eye-centre-to-nose distance (``head_size="frame"`` uses each frame's own).
Features are therefore unchanged by moving, rotating, scaling or mirroring the whole face.

Feature groups and the features they give:

- ``ear``: ``ear_angle`` (degrees; 0 = ear lying back along the head axis, 90 = pointing up,
  dorsal), ``ear_eye_distance`` (ear tip to eye centre);
- ``eye``: ``eye_opening`` (upper to lower eyelid);
- ``nose``: ``nose_x``, ``nose_y`` (nose tip: forward, ventral);
- ``mouth``: ``mouth_x``, ``mouth_y`` (mouth corner);
- ``whisker_pad``: ``whisker_pad_x``, ``whisker_pad_y``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mouseface.errors import InputError

__all__ = [
    "KEYPOINT_NAMES",
    "FEATURE_GROUPS",
    "keypoint_features",
    "keypoint_feature_names",
    "required_keypoints",
]

KEYPOINT_NAMES = (
    "nose",
    "eye_front",
    "eye_back",
    "eye_top",
    "eye_bottom",
    "ear_base",
    "ear_tip",
    "mouth",
    "whisker_pad",
)
#: keypoints every feature group needs (head frame and head size)
_BASE = ("nose", "eye_front", "eye_back", "ear_base")
#: group -> (keypoints it needs beyond the base, features it gives)
FEATURE_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ear": (("ear_tip",), ("ear_angle", "ear_eye_distance")),
    "eye": (("eye_top", "eye_bottom"), ("eye_opening",)),
    "nose": ((), ("nose_x", "nose_y")),
    "mouth": (("mouth",), ("mouth_x", "mouth_y")),
    "whisker_pad": (("whisker_pad",), ("whisker_pad_x", "whisker_pad_y")),
}
_DEFAULT_GROUPS = tuple(FEATURE_GROUPS)


def _check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    groups = tuple(groups)
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if unknown or not groups:
        raise InputError(
            f"keypoint feature groups {list(unknown) or '[]'} unknown or empty; choose from "
            f"{', '.join(FEATURE_GROUPS)}"
        )
    return groups


def required_keypoints(groups: Sequence[str] = _DEFAULT_GROUPS) -> list[str]:
    """Keypoint names the feature groups need (see the module docstring), in naming order."""
    need = set(_BASE)
    for g in _check_groups(groups):
        need.update(FEATURE_GROUPS[g][0])
    return [k for k in KEYPOINT_NAMES if k in need]


def keypoint_feature_names(groups: Sequence[str] = _DEFAULT_GROUPS) -> list[str]:
    """Names of the features :func:`keypoint_features` returns for these groups, in order."""
    return [f for g in _check_groups(groups) for f in FEATURE_GROUPS[g][1]]


def keypoint_features(
    positions: np.ndarray,
    keypoint_names: Sequence[str],
    *,
    groups: Sequence[str] = _DEFAULT_GROUPS,
    aliases: Mapping[str, str] | None = None,
    head_size: str = "median",
    source: str = "pose",
) -> tuple[np.ndarray, list[str]]:
    """Per-frame keypoint features normalised to head size.

    Parameters
    ----------
    positions : ndarray, shape (n_frames, n_keypoints, 2)
        x, y in pixels (image coordinates, y down); NaN for a missing point.
    keypoint_names : sequence of str
        Name of each keypoint (the file's names).
    groups : sequence of str
        Feature groups: any of ``ear``, ``eye``, ``nose``, ``mouth``, ``whisker_pad``
        (default all).
    aliases : mapping or None
        ``{name in the file: standard name}``, e.g. ``{"EyeUpper": "eye_top"}``.
    head_size : {"median", "frame"}
        Unit of distance: the session's median eye-to-nose distance (default; nose movements
        then show in ``nose_x``) or each frame's own.
    source : str
        What the positions came from (e.g. the pose file), named in error messages.

    Returns
    -------
    values : ndarray of float32, shape (n_frames, n_features)
        Features in the order of ``names``; NaN in frames where a needed keypoint is NaN.
    names : list of str
        Feature names (see :func:`keypoint_feature_names`).

    Raises
    ------
    InputError
        Wrong shape, repeated names, keypoints the groups need but the input lacks (listed,
        with the fix), or no frame with the head keypoints.
    """
    groups = _check_groups(groups)
    pos = np.asarray(positions, dtype=np.float64)
    names = [str(k) for k in keypoint_names]
    if pos.ndim != 3 or pos.shape[2] != 2 or pos.shape[1] != len(names):
        raise InputError(
            f"{source}: keypoint positions must be (n_frames, n_keypoints={len(names)}, 2), "
            f"got {pos.shape}"
        )
    if head_size not in ("median", "frame"):
        raise InputError(f"head_size {head_size!r}: use 'median' or 'frame'")
    index = _index(names, aliases or {}, source)
    need = required_keypoints(groups)
    missing = [k for k in need if k not in index]
    if missing:
        have = ", ".join(names) or "none"
        raise InputError(
            f"{source}: keypoint(s) {', '.join(missing)} needed by the feature groups "
            f"{', '.join(groups)} are missing (keypoints given: {have}); map your names onto "
            f"these with aliases, e.g. {{'YourName': '{missing[0]}'}} (pose: {{aliases: ...}} in "
            "mouseface.yaml), or leave out the groups that need them (keypoints: {groups: "
            "[...]} in mouseface.yaml; see mouseface.features.keypoints.FEATURE_GROUPS)"
        )

    def kp(name: str) -> np.ndarray:
        return pos[:, index[name], :]

    eye = 0.5 * (kp("eye_front") + kp("eye_back"))
    fwd = eye - kp("ear_base")
    fwd = fwd / np.linalg.norm(fwd, axis=1, keepdims=True)
    perp = np.stack([-fwd[:, 1], fwd[:, 0]], axis=1)
    valid = np.isfinite(perp).all(axis=1)
    if not valid.any():
        raise InputError(
            f"{source}: no frame has all of eye_front, eye_back and ear_base; the head frame "
            "cannot be set (check the pose file's confidence filtering)"
        )
    # ventral = image-down for a level head, whichever way the face looks (fixed per session)
    sign = 1.0 if np.median(perp[valid, 1]) >= 0 else -1.0
    ventral = sign * perp
    nose_dist = np.linalg.norm(kp("nose") - eye, axis=1)
    if head_size == "median":
        finite = nose_dist[np.isfinite(nose_dist)]
        if not finite.size or not np.median(finite) > 0:
            raise InputError(
                f"{source}: the nose-to-eye distance is never positive; check the nose and eye "
                "keypoints"
            )
        unit = np.full_like(nose_dist, float(np.median(finite)))
    else:
        unit = np.where(nose_dist > 0, nose_dist, np.nan)

    def head(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = p - eye
        return (d * fwd).sum(axis=1) / unit, (d * ventral).sum(axis=1) / unit

    cols: list[np.ndarray] = []
    for g in groups:
        if g == "ear":
            ear = kp("ear_tip") - kp("ear_base")
            ex, ey = (ear * fwd).sum(axis=1), (ear * ventral).sum(axis=1)
            cols.append(np.degrees(np.arctan2(-ey, -ex)))
            cols.append(np.linalg.norm(kp("ear_tip") - eye, axis=1) / unit)
        elif g == "eye":
            cols.append(np.linalg.norm(kp("eye_top") - kp("eye_bottom"), axis=1) / unit)
        else:
            cols.extend(head(kp(g)))
    return np.stack(cols, axis=1).astype(np.float32), keypoint_feature_names(groups)


def _index(names: list[str], aliases: Mapping[str, str], source: str) -> dict[str, int]:
    renamed = [aliases.get(n, n) for n in names]
    bad = [a for a in aliases.values() if a not in KEYPOINT_NAMES]
    if bad:
        raise InputError(
            f"{source}: aliases map onto unknown keypoint name(s) {', '.join(map(str, bad))}; "
            f"the names are {', '.join(KEYPOINT_NAMES)}"
        )
    seen: dict[str, int] = {}
    for i, n in enumerate(renamed):
        if n in seen and n in KEYPOINT_NAMES:
            raise InputError(
                f"{source}: two keypoints are named (or aliased to) '{n}' ({names[seen[n]]}, "
                f"{names[i]}); give each one its own name"
            )
        seen.setdefault(n, i)
    return seen
