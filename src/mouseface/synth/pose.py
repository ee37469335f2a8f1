"""Synthetic pose files: the generator's facial landmarks as DeepLabCut files, with tracking noise.

The keypoints follow :mod:`mouseface.features.keypoints`'s naming (:data:`KEYPOINT_NAMES`), so a
synthetic ``mouseface.yaml`` can name them as each session's ``pose`` without aliases:

- cartoon faces (:class:`~mouseface.synth.render.FaceRenderer`): read off the drawn outlines of
  every frame (eye ellipse ends, nose and whisker-pad centres, ear base and tip, mouth corner);
- real faces (:class:`~mouseface.synth.real_render.RealFaceRenderer`): the found landmarks and
  four eye points around the found eye, carried through each frame's warps and head jitter
  (:meth:`~mouseface.synth.real_render.RealFaceRenderer.landmark_track`); a blink brings the
  eyelid points together.

:func:`write_synthetic_pose` adds what a trained pose network gives: Gaussian jitter of every
point (``jitter`` px; the generator uses 1.5 px on its default 240 x 320 frame and scales it with
the frame, as a network's error scales with the face), a few random low-confidence points
displaced further, and low confidence on the snout points while a grooming paw covers them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mouseface.features.keypoints import KEYPOINT_NAMES
from mouseface.io.pose import write_pose_dlc
from mouseface.synth._timeline import Timeline
from mouseface.synth.landmarks import LANDMARK_NAMES
from mouseface.synth.real_render import RealFaceRenderer

__all__ = [
    "POSE_SALT",
    "shape_keypoints",
    "frame_pose",
    "real_keypoints",
    "write_synthetic_pose",
]

#: mixed into the dataset seed for the pose noise, so that pose files do not change the videos
POSE_SALT = 0x9053

_SNOUT = ("nose", "mouth", "whisker_pad")
_K = {n: i for i, n in enumerate(KEYPOINT_NAMES)}


def shape_keypoints(points: dict) -> np.ndarray:
    """Keypoints of one cartoon frame read off its drawn outlines.

    Parameters
    ----------
    points : dict
        ``Shapes.points`` of :meth:`FaceRenderer.shapes` (outline name -> ``(m, 2)`` px).

    Returns
    -------
    numpy.ndarray
        float64 ``(len(KEYPOINT_NAMES), 2)``: x, y in frame pixels.
    """
    out = np.empty((len(KEYPOINT_NAMES), 2))
    eye, ear = points["eye"], points["ear"]  # eye: 32-point ellipse from its back end, clockwise
    out[_K["nose"]] = points["nose"].mean(axis=0)
    out[_K["eye_front"]] = eye[16]
    out[_K["eye_back"]] = eye[0]
    out[_K["eye_top"]] = eye[24]
    out[_K["eye_bottom"]] = eye[8]
    out[_K["ear_base"]] = ear[0]
    out[_K["ear_tip"]] = ear[16]
    out[_K["mouth"]] = points["mouth"][1]
    out[_K["whisker_pad"]] = points["pad"].mean(axis=0)
    return out


def frame_pose(tl: Timeline, i: int) -> dict[str, float]:
    """Frame ``i``'s blink, licking, paw and head-jitter keywords of :meth:`FaceRenderer.shapes`."""
    return {
        "blink": float(tl.blink[i]),
        "tongue": float(tl.tongue[i]),
        "paw": float(tl.paw[i]),
        "paw_phase": float(tl.paw_phase[i]),
        "dx": float(tl.dx[i]),
        "dy": float(tl.dy[i]),
        "rotation": float(tl.rotation[i]),
    }


def real_keypoints(renderer: RealFaceRenderer, tl: Timeline, yaw: np.ndarray) -> np.ndarray:
    """Keypoints of every frame of a real-face session, through its warps and jitter.

    Parameters
    ----------
    renderer : RealFaceRenderer
        The animal's renderer.
    tl : Timeline
        The session's per-frame action units and nuisances.
    yaw : numpy.ndarray
        ``(n_frames,)`` head yaw per frame (as rendered).

    Returns
    -------
    numpy.ndarray
        float64 ``(n_frames, len(KEYPOINT_NAMES), 2)``: x, y in output pixels.
    """
    lm = renderer.landmarks
    u, nrm = lm.frame()
    eye = np.asarray(lm.points["eye"], dtype=np.float64)
    r = float(lm.eye_radius)
    foot = {n: np.asarray(lm.points[n], dtype=np.float64) for n in LANDMARK_NAMES}
    foot |= {
        "eye_front": eye + r * u,
        "eye_back": eye - r * u,
        "eye_top": eye - 0.8 * r * nrm,
        "eye_bottom": eye + 0.8 * r * nrm,
        "whisker_pad": foot["pad"],
    }
    names = ("eye", *KEYPOINT_NAMES)
    track = renderer.landmark_track(
        tl.au,
        dx=tl.dx,
        dy=tl.dy,
        rotation=tl.rotation,
        yaw=yaw,
        points=np.stack([foot[n] for n in names]),
    )
    centre, out = track[:, :1], track[:, 1:].copy()
    open_ = 1.0 - np.clip(np.asarray(tl.blink, dtype=np.float64), 0.0, 1.0)[:, None]
    for k in ("eye_top", "eye_bottom"):  # a blink brings the lids to the eye's centre line
        out[:, _K[k]] = centre[:, 0] + (out[:, _K[k]] - centre[:, 0]) * open_
    return out


def write_synthetic_pose(
    path: str | Path,
    keypoints: np.ndarray,
    *,
    fps: float,
    rng: np.random.Generator,
    paw: np.ndarray | None = None,
    jitter: float = 1.5,
    low_fraction: float = 0.01,
) -> Path:
    """Write keypoints as a DeepLabCut file with a pose network's noise and confidences.

    Parameters
    ----------
    path : str or Path
        ``.h5`` or ``.csv`` destination.
    keypoints : numpy.ndarray
        ``(n_frames, len(KEYPOINT_NAMES), 2)`` true positions, pixels.
    fps : float
        Frame rate of the video.
    rng : numpy.random.Generator
        Noise source (give one of its own so the videos do not change).
    paw : numpy.ndarray or None, optional
        ``(n_frames,)`` grooming-paw reach 0..1; above 0.5 the snout points (nose, mouth,
        whisker pad) get low confidence and a displaced position.
    jitter : float, optional
        Standard deviation of the tracking jitter of every point, pixels (default 1.5).
    low_fraction : float, optional
        Share of points given a low confidence (0.05..0.5) and a 6-px displacement (default 1 %).

    Returns
    -------
    Path
        ``path``.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    n, k = kp.shape[:2]
    pos = kp + rng.normal(0.0, jitter, kp.shape)
    conf = rng.uniform(0.9, 1.0, (n, k))
    low = rng.random((n, k)) < low_fraction
    if paw is not None:
        covered = np.asarray(paw, dtype=np.float64) > 0.5
        for name in _SNOUT:
            low[:, _K[name]] |= covered
    conf[low] = rng.uniform(0.05, 0.5, int(low.sum()))
    pos[low] += rng.normal(0.0, 6.0, (int(low.sum()), 2))
    return write_pose_dlc(path, pos, KEYPOINT_NAMES, fps=fps, confidence=conf)
