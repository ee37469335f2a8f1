"""Sessions extracted on worker processes (``jobs``) or on a dask scheduler give the same outputs
as in-process extraction: the workers' SessionFeatures values come back whole."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import moving_square, write_video
from mouseface.io.config import config_from_dict
from mouseface.pipeline import run_project


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("parallel")
    for k, name in enumerate(("a", "b", "c")):
        write_video(root / f"{name}.mp4", moving_square(100, seed=k + 1), fps=20)
        (root / f"{name}.tsv").write_text(
            "onset\tduration\ttrial_type\n2.5\t1\tshock\n4.0\t1\tsucrose\n"
        )
    cfg = config_from_dict(
        {
            "sessions": [
                {"id": "a", "animal": "m1", "video": "a.mp4", "events": "a.tsv"},
                {"id": "b", "animal": "m2", "video": "b.mp4", "events": "b.tsv"},
                {"id": "c", "animal": "m2", "video": "c.mp4", "events": "c.tsv"},
            ],
            "emotions": {"shock": "pain", "sucrose": "pleasure"},
            "hog": {"face_width": 96, "pixels_per_cell": [16, 16]},
        },
        base=root,
    )
    return root, cfg


def _outputs(out: Path) -> dict[str, object]:
    prov = json.loads((out / "provenance.json").read_text())
    return {
        "trials": pd.read_parquet(out / "trials.parquet"),
        "frames": {s: pd.read_parquet(out / "sessions" / s / "frames.parquet") for s in "abc"},
        "sessions": prov["sessions"],
    }


def _same(x: dict, y: dict) -> None:
    pd.testing.assert_frame_equal(x["trials"], y["trials"])
    for s in "abc":
        pd.testing.assert_frame_equal(x["frames"][s], y["frames"][s])
    assert x["sessions"] == y["sessions"]


@pytest.fixture(scope="module")
def serial(project) -> dict:
    root, cfg = project
    run_project(cfg, root / "serial", analyses=False, report=False)
    return _outputs(root / "serial")


def test_jobs_2_matches_serial(project, serial):
    root, cfg = project
    res = run_project(cfg, root / "jobs", jobs=2, analyses=False, report=False)
    assert len(res.trials) == 6
    _same(_outputs(root / "jobs"), serial)


def test_scheduler_matches_serial(project, serial):
    distributed = pytest.importorskip("distributed")
    root, cfg = project
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run_project(
            cfg, root / "dask", scheduler=cluster.scheduler_address, analyses=False, report=False
        )
    _same(_outputs(root / "dask"), serial)
