"""Shareable prototype libraries: save one lab's prototypes, apply them to another lab's videos.

A library is one netCDF file (open format, readable with xarray, netCDF4-python or any netCDF
tool; no pickles) holding everything needed to reuse the prototypes:

- ``prototype`` (emotion, feature): pooled prototypes, ``neutral`` first;
- ``animal_prototype`` (animal, emotion, feature): per-animal prototypes (NaN where missing);
- ``reference_face`` (y, x) and ``animal_face`` (animal, y, x): mean face crops at the library's
  face size, in the frame the HOG was computed in (after registration and resizing), used to
  register a new video's face before HOG;
- attributes: ``hog`` (JSON: orientations, pixels_per_cell, cells_per_block, block_norm,
  transform_sqrt), ``face_height`` / ``face_width``, ``stimuli`` (JSON trial_type -> emotion),
  ``windows`` (JSON), ``prototype_frames``, ``provenance`` (JSON: package version, creation time,
  source folder, input SHA256, animals and sessions), ``format`` and ``format_version``.

``apply_library`` reads a video, registers its face onto the library's reference face
(:func:`mouseface.face.estimate_transform` on the median of its first frames, the transform
applied to every frame), computes HOG with the library's parameters and face size, and the
strength of every frame against the library's prototypes (see :mod:`mouseface.library.apply`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

from mouseface import __version__
from mouseface.errors import InputError
from mouseface.io.outputs import write_netcdf_atomic

__all__ = ["Library", "save_library", "load_library"]

FORMAT = "mouseface-prototype-library"
FORMAT_VERSION = 2
"""2: the cell flow is dense optical flow with the head's movement removed; libraries of format 1
with ``flow`` among their features hold the former one-step flow and are refused (HOG-only
libraries of format 1 are read as before)."""
_HOG_KEYS = ("orientations", "pixels_per_cell", "cells_per_block", "block_norm", "transform_sqrt")


@dataclass(frozen=True)
class Library:
    """Prototypes and everything needed to apply them to new videos.

    Attributes
    ----------
    emotions : tuple of str
        Prototype names, ``"neutral"`` first.
    prototypes : ndarray of float32, shape (k, d)
        Pooled prototypes (mean of the animals').
    animals : tuple of str
    animal_prototypes : ndarray of float32, shape (a, k, d)
        Per-animal prototypes, NaN where an animal had no trials of an emotion.
    reference_face : ndarray of float32, shape (h, w)
        Mean face crop at the library's face size (the first session's).
    animal_faces : ndarray of float32, shape (a, h, w)
        Each animal's mean face crop.
    hog : dict
        Keyword arguments of :func:`mouseface.hog`.
    features : tuple of str
        Feature sets stacked into a frame's vector (``("hog",)`` for libraries made before
        feature sets existed).
    flow : dict
        Cell-flow parameters (``cell``, ``sigma``, ``reference_frames``, ``weight``) when
        ``flow`` is among ``features``.
    face_shape : (int, int)
        (h, w) every crop is resized to before HOG.
    stimuli : dict
        trial_type -> emotion of the source project.
    windows : dict
        ``{"baseline": [a, b], "response": [a, b]}`` seconds.
    prototype_frames : int
    provenance : dict
    """

    emotions: tuple[str, ...]
    prototypes: np.ndarray
    animals: tuple[str, ...]
    animal_prototypes: np.ndarray
    reference_face: np.ndarray
    animal_faces: np.ndarray
    hog: dict
    face_shape: tuple[int, int]
    features: tuple[str, ...] = ("hog",)
    flow: dict = field(default_factory=dict)
    stimuli: dict = field(default_factory=dict)
    windows: dict = field(default_factory=dict)
    prototype_frames: int = 10
    provenance: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """Length of a frame's feature vector."""
        return int(self.prototypes.shape[1])


def _first_sessions(out: Path, prov: dict) -> dict[str, str]:
    first: dict[str, str] = {}
    for s in prov["config"]["sessions"]:
        if (out / "sessions" / s["id"] / "features.zarr").is_dir():
            first.setdefault(s["animal"], s["id"])
    return first


def save_library(out_dir: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Write the prototypes of a finished run as a reusable library (netCDF).

    Parameters
    ----------
    out_dir : str or PathLike
        Output folder of ``mouseface run`` (needs ``prototypes.nc``, ``provenance.json`` and the
        sessions' ``features.zarr``).
    path : str or PathLike
        Library file to write (``.nc``), atomically.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        When ``out_dir`` is not a finished output folder.
    """
    out = Path(out_dir)
    for name in ("prototypes.nc", "provenance.json"):
        if not (out / name).is_file():
            raise InputError(f"{out}: no {name}; run 'mouseface run CONFIG --out {out}' first")
    prov = json.loads((out / "provenance.json").read_text())
    with xr.open_dataset(out / "prototypes.nc", engine="scipy") as src:
        protos = src.load()
    animals = [str(a) for a in protos["animal"].values]
    first = _first_sessions(out, prov)
    ref = protos["example_face"].values.astype(np.float32)
    faces = np.stack(
        [
            zarr.open_group(str(out / "sessions" / first[a] / "features.zarr"), mode="r")[
                "mean_face"
            ][:].astype(np.float32)
            if a in first
            else ref
            for a in animals
        ]
    )
    cfg = prov["config"]
    hog = {k: cfg["hog"][k] for k in _HOG_KEYS if k in cfg["hog"]}
    source = {
        "package": "mouseface",
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_folder": str(out.resolve()),
        "source_version": prov.get("version"),
        "source_created": prov.get("created"),
        "inputs": prov.get("inputs", {}),
        "sessions": {s["id"]: s["animal"] for s in cfg["sessions"]},
        "face_size_rule": prov.get("parameters", {}).get("face_size_rule"),
        "prototype_rule": protos.attrs.get("description", ""),
    }
    ds = xr.Dataset(
        {
            "prototype": (("emotion", "feature"), protos["prototype"].values.astype(np.float32)),
            "animal_prototype": (
                ("animal", "emotion", "feature"),
                protos["animal_prototype"].values.astype(np.float32),
            ),
            "reference_face": (("y", "x"), ref),
            "animal_face": (("animal", "y", "x"), faces),
        },
        coords={"emotion": [str(e) for e in protos["emotion"].values], "animal": animals},
        attrs={
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hog": json.dumps(hog),
            "features": json.dumps(list(cfg.get("features") or ["hog"])),
            "flow": json.dumps(cfg.get("flow") or {}),
            "face_height": int(protos.attrs["face_height"]),
            "face_width": int(protos.attrs["face_width"]),
            "stimuli": json.dumps(cfg.get("emotions", {})),
            "windows": json.dumps(cfg.get("windows", {})),
            "prototype_frames": int(protos.attrs.get("prototype_frames", 10)),
            "provenance": json.dumps(source),
            "description": "mouseface prototype library: pooled and per-animal expression "
            "prototypes (HOG), reference faces for registration, HOG parameters and face size",
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_netcdf_atomic(path, lambda p: ds.to_netcdf(p, engine="scipy"))
    return path


def _json_attr(ds: xr.Dataset, key: str, path: Path) -> dict:
    try:
        return dict(json.loads(ds.attrs[key]))
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: library attribute {key!r} is missing or not JSON") from None


def load_library(path: str | os.PathLike[str]) -> Library:
    """Read a library written by :func:`save_library`.

    Raises
    ------
    InputError
        Missing file, not netCDF, not a mouseface library, or a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: library file not found")
    try:
        with xr.open_dataset(path, engine="scipy") as src:
            ds = src.load()
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a netCDF prototype library ({exc})") from None
    if ds.attrs.get("format") != FORMAT:
        raise InputError(f"{path}: not a mouseface prototype library (format attribute missing)")
    version = int(ds.attrs.get("format_version", 0))
    if version > FORMAT_VERSION:
        raise InputError(
            f"{path}: library format {version} is newer than this mouseface "
            f"({FORMAT_VERSION}); upgrade mouseface"
        )
    features = json.loads(ds.attrs["features"]) if "features" in ds.attrs else ["hog"]
    if version < 2 and "flow" in features:
        raise InputError(
            f"{path}: this library (format {version}) holds cell flow "
            "of an older mouseface (one Lucas-Kanade step per cell), which today's dense flow "
            "would not match; run its project again ('mouseface run') and save the library anew "
            "('mouseface library save')"
        )
    missing = [v for v in ("prototype", "animal_prototype", "reference_face") if v not in ds]
    if missing:
        raise InputError(f"{path}: library lacks {', '.join(missing)}")
    hog = _json_attr(ds, "hog", path)
    for k in ("pixels_per_cell", "cells_per_block"):
        if k in hog:
            hog[k] = tuple(hog[k])
    emotions = tuple(str(e) for e in ds["emotion"].values)
    if emotions[0] != "neutral":
        raise InputError(f"{path}: the first prototype must be 'neutral', got {emotions[0]!r}")
    animals = tuple(str(a) for a in ds["animal"].values)
    ref = ds["reference_face"].values.astype(np.float32)
    faces = ds["animal_face"].values.astype(np.float32) if "animal_face" in ds else ref[None]
    return Library(
        emotions=emotions,
        prototypes=ds["prototype"].values.astype(np.float32),
        animals=animals,
        animal_prototypes=ds["animal_prototype"].values.astype(np.float32),
        reference_face=ref,
        animal_faces=faces,
        hog=hog,
        face_shape=(int(ds.attrs["face_height"]), int(ds.attrs["face_width"])),
        features=tuple(features),
        flow=json.loads(ds.attrs["flow"]) if "flow" in ds.attrs else {},
        stimuli=_json_attr(ds, "stimuli", path),
        windows=_json_attr(ds, "windows", path),
        prototype_frames=int(ds.attrs.get("prototype_frames", 10)),
        provenance=_json_attr(ds, "provenance", path),
    )
