"""Compare feature sets ([hog], [keypoints], [hog, keypoints]) on a synthetic dataset.

Usage (see ``docs/features.md``)::

    mouseface synth DATA --seed 1 --trials 2 --licl-tail 30
    python docs/scripts/feature_sets.py DATA OUT --sets hog keypoints hog+keypoints

For each set it runs the pipeline (no analyses, no report) into ``OUT/<set>``, then prints

- the frame score: balanced accuracy of the per-frame predictions on the frames the ground truth
  chooses (``mouseface.decoding.scoring.score_against_truth``), with its animal-bootstrap 95 %
  interval and the permutation chance level;
- the trial accuracy: share of emotion trials in ``trials.parquet`` whose ``predicted`` is the
  trial's emotion;
- with ``--energy``: the mean squared deviation of each feature set from its session's neutral
  face over the response-window frames, and the keypoint weight that gives keypoints the same
  share of a frame's change as HOG (``sqrt(E_hog / E_keypoints)``).

``hog+keypoints@W`` sets the keypoint weight to W.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from mouseface.decoding.scoring import score_against_truth
from mouseface.expression.trials import window_masks
from mouseface.io.config import load_config
from mouseface.io.events import read_events
from mouseface.io.feature_store import open_store
from mouseface.pipeline import run_project


def _config(data: Path, spec: str, folder: Path) -> Path:
    sets, _, weight = spec.partition("@")
    cfg = yaml.safe_load((data / "mouseface.yaml").read_text())
    for s in cfg["sessions"]:
        for key in ("video", "events", "pose", "opto"):
            if key in s:
                s[key] = str((data / s[key]).resolve())
    cfg["features"] = sets.split("+")
    if weight:
        cfg["keypoints"] = {"weight": float(weight)}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mouseface.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _trial_accuracy(out: Path) -> tuple[float, int]:
    tr = pd.read_parquet(out / "trials.parquet")
    tr = tr[tr["emotion"].notna() & tr["predicted"].notna()]
    return float((tr["predicted"] == tr["emotion"]).mean()), len(tr)


def _energy(out: Path, cfg_path: Path) -> dict[str, float]:
    """Mean squared deviation of each set from the session's neutral (mean baseline) vector,
    over response-window frames, averaged over sessions."""
    cfg = load_config(cfg_path)
    acc: dict[str, list[float]] = {}
    for s in cfg.sessions:
        g = open_store(out / "sessions" / s.id / "features.zarr")
        times = g["time"][:]
        ev = read_events(s.events)
        masks = window_masks(times, ev, windows=cfg.windows.model_dump(), source=s.events)
        base = np.any(masks["baseline"], axis=0)
        resp = np.any(masks["response"], axis=0)
        for name in ("hog", "keypoints"):
            if name not in g:
                continue
            x = np.asarray(g[name][:], dtype=np.float64)
            neutral = x[base].mean(axis=0)
            acc.setdefault(name, []).append(float(((x[resp] - neutral) ** 2).sum(axis=1).mean()))
    return {k: float(np.mean(v)) for k, v in acc.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--sets", nargs="+", default=["hog", "keypoints", "hog+keypoints"])
    ap.add_argument("--energy", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for spec in args.sets:
        folder = args.out / spec.replace("+", "_").replace("@", "_w")
        cfg_path = _config(args.data, spec, folder)
        out = folder / "out"
        t0 = time.perf_counter()
        run_project(load_config(cfg_path), out, analyses=False, report=False)
        took = time.perf_counter() - t0
        fs = score_against_truth(out, args.data)
        acc, n_trials = _trial_accuracy(out)
        row = {
            "features": spec,
            "frame_bacc": fs.balanced_accuracy,
            "ci": [fs.ci_low, fs.ci_high],
            "chance": fs.chance,
            "n_frames": fs.n_frames,
            "trial_acc": acc,
            "n_trials": n_trials,
            "seconds": took,
        }
        if args.energy:
            row["energy"] = _energy(out, cfg_path)
            e = row["energy"]
            if "hog" in e and "keypoints" in e:
                row["equal_share_weight"] = float(np.sqrt(e["hog"] / e["keypoints"]))
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
