"""The development runs behind the default features (``docs/validation.md``).

Usage::

    mouseface synth dev101 --animals 6 --seed 101                 # real faces (development)
    mouseface synth cdev101 --animals 6 --seed 101 --faces cartoon
    python ../shared/tools/der_tiles.py der                         # DER mosaics -> tiles
    python docs/scripts/choose_defaults.py dev101 runs hog32 hog16 hog16+flow
    python docs/scripts/choose_defaults.py der runs-der hog32 hog16 hog12 hog16+flow
    python docs/scripts/choose_defaults.py dev101 runs hog16+flow@gate1 hog16+flow@gate2  # gates

For each variant it runs ``mouseface run`` (no analyses, no report) on the data folder's
``mouseface.yaml`` with the variant's config keys, then prints one JSON line: on synthetic data
the frame score (``mouseface.decoding.scoring.score_against_truth``: frames chosen by the ground
truth) and the trial accuracy; on the DER tiles (no truth folder) Spearman(intensity, response)
and the strong-vs-none AUC per mouse. Lines are also appended to ``OUT/results.jsonl``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

VARIANTS = {
    "hog32": {"features": ["hog"], "hog": {"pixels_per_cell": [32, 32]}},
    "hog16": {"features": ["hog"], "hog": {"pixels_per_cell": [16, 16]}},
    "hog12": {"features": ["hog"], "hog": {"pixels_per_cell": [12, 12]}},
    "hog16+flow": {"features": ["hog", "flow"], "hog": {"pixels_per_cell": [16, 16]}},
    "hog32+flow": {"features": ["hog", "flow"], "hog": {"pixels_per_cell": [32, 32]}},
    "hog16+flow@0.1": {
        "features": ["hog", "flow"],
        "hog": {"pixels_per_cell": [16, 16]},
        "flow": {"weight": 0.1},
    },
    "paper": {"features": ["hog"], "hog": {"preset": "paper"}},
}
# the neutral gate (robust z of a frame's change), with the default features
for _gate in (1, 1.5, 2, 3, 5):
    VARIANTS[f"hog16+flow@gate{_gate:g}"] = {
        **VARIANTS["hog16+flow"],
        "analyses": {"decoding": {"change_threshold": float(_gate)}},
    }
# dense (DIS) cell flow without the head's movement, read by the standardised logistic decoder
# (the flow of these variants is the flow of the code they run on: DIS since the flow commit)
VARIANTS["hog16+flow@logistic"] = {**VARIANTS["hog16+flow"], "decoders": ["logistic", "prototype"]}
for _gate in (-1000, 0, 1, 2):
    VARIANTS[f"hog16+flow@logistic@gate{_gate:g}"] = {
        **VARIANTS["hog16+flow@logistic"],
        "analyses": {"decoding": {"change_threshold": float(_gate)}},
    }
# the flow's weight beside HOG (change, strength, prototypes, the gated decoders), with the
# dense flow: it reads movements of many px, where the one-step flow the 0.05 was chosen for
# saturated at 1-2 px
for _w in (0.01, 0.02, 0.05):
    VARIANTS[f"hog16+flow@w{_w:g}"] = {**VARIANTS["hog16+flow"], "flow": {"weight": _w}}


def run_variant(data: Path, name: str, out_root: Path) -> dict:
    """Run one variant on ``data`` and score it (see the module docstring)."""
    cfg = yaml.safe_load((data / "mouseface.yaml").read_text())
    cfg.update(VARIANTS[name])
    config = data / f"mouseface_{name}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = out_root / name
    t0 = time.perf_counter()
    subprocess.run(
        ["mouseface", "run", str(config), "--out", str(out), "--no-analyses", "--no-report"],
        check=True,
    )
    res: dict = {"variant": name, "data": data.name, "wall_s": round(time.perf_counter() - t0)}
    trials = pd.read_parquet(out / "trials.parquet")
    if (data / "truth").is_dir():
        from mouseface.decoding.scoring import score_against_truth

        s = score_against_truth(out, data)
        t = trials[trials["emotion"].notna()]
        res.update(
            frame_score=round(s.balanced_accuracy, 3),
            ci=[round(s.ci_low, 3), round(s.ci_high, 3)],
            chance=round(s.chance, 3),
            trial_accuracy=round(float((t["predicted"] == t["emotion"]).mean()), 3),
        )
    else:
        rho, auc = {}, {}
        for animal, g in trials.groupby("animal"):
            rho[animal] = round(float(spearmanr(g["intensity"], g["response"])[0]), 3)
            lo, hi = g["intensity"].min(), g["intensity"].max()
            ends = g[g["intensity"].isin([lo, hi])]
            auc[animal] = round(float(roc_auc_score(ends["intensity"] == hi, ends["response"])), 3)
        res.update(spearman=rho, auc=auc)
    return res


def main(argv: list[str]) -> None:
    """``choose_defaults.py DATA OUT VARIANT...``."""
    data, out_root, names = Path(argv[0]), Path(argv[1]), argv[2:]
    out_root.mkdir(parents=True, exist_ok=True)
    for name in names:
        res = run_variant(data, name, out_root)
        print(json.dumps(res), flush=True)
        with open(out_root / "results.jsonl", "a") as f:
            f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
