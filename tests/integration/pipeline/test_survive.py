"""Runs that survive: kill and resume, --jobs 2 and a dask cluster give the serial tables, and
a session that fails (worker died, disk full, video broken mid-way) is named with its frame while
the others finish and earlier outputs stay whole."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import av
import pandas as pd
import pytest
import zarr
from typer.testing import CliRunner

from mouseface.cli import app
from mouseface.io.config import load_config
from mouseface.pipeline import run_project
from mouseface.pipeline.parallel import SessionFailure, extract_sessions
from mouseface.pipeline.run import validate_stage
from mouseface.pipeline.session import SessionFeatures
from mouseface.synth import generate_dataset

CLI = [sys.executable, "-c", "from mouseface.cli import main; main()"]
TABLES = ("trials.parquet", "decoding.parquet")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic project: 2 animals x 2 states = 4 sessions of about 250 frames (5 fps)."""
    root = tmp_path_factory.mktemp("survive")
    yaml = generate_dataset(
        root / "data",
        n_animals=2,
        seed=2,
        fps=5.0,
        size=(96, 128),
        trials_per_stimulus=1,
        licl_tail=10.0,
        faces="cartoon",  # decoding needs faces whose change passes the gate at this size
    )
    with yaml.open("a") as fh:
        fh.write("hog: {face_width: 64, pixels_per_cell: [16, 16]}\n")
        fh.write("chunk_size: 32\ndecoders: [prototype]\n")
    return yaml


@pytest.fixture(scope="module")
def serial(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output folder of an uninterrupted serial run (no analyses, no report)."""
    out = tmp_path_factory.mktemp("serial") / "out"
    res = run_project(load_config(data), out, analyses=False, report=False)
    assert res.complete and len(res.trials) > 0 and not res.decoding.empty
    return out


def _session_ids(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "sessions").iterdir())


def _assert_same_tables(out: Path, ref: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(ref / name))
    assert _session_ids(out) == _session_ids(ref)
    for sid in _session_ids(ref):
        rel = Path("sessions") / sid / "frames.parquet"
        pd.testing.assert_frame_equal(pd.read_parquet(out / rel), pd.read_parquet(ref / rel))


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _hidden_temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*") if p.name.endswith((".tmp", ".old"))]


def test_killed_run_resumes_to_the_same_tables(data: Path, serial: Path, tmp_path: Path):
    out = tmp_path / "out"
    ids = _session_ids(serial)
    args = ["run", str(data), "--out", str(out), "--jobs", "1", "--no-analyses", "--no-report"]
    first = out / "sessions" / ids[0] / "features.zarr"
    with (tmp_path / "killed.log").open("wb") as log:
        proc = subprocess.Popen(CLI + args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not first.is_dir() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "killed.log").read_text()
    assert first.is_dir()
    assert not (out / "trials.parquet").exists()  # it really died in the middle
    done = {sid for sid in ids if (out / "sessions" / sid / "features.zarr").is_dir()}
    assert done and done != set(ids)
    stores = {sid: _snapshot(out / "sessions" / sid / "features.zarr") for sid in done}

    res = subprocess.run(CLI + [*args, "--resume"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["failures"] == []
    resumed = {sid for sid, s in prov["sessions"].items() if s["resumed_features"]}
    assert resumed == done
    for sid in done:  # reused, not rewritten
        assert _snapshot(out / "sessions" / sid / "features.zarr") == stores[sid]
    assert _hidden_temporaries(out) == []
    _assert_same_tables(out, serial)


def test_jobs_2_gives_the_serial_tables_and_per_session_progress(
    data: Path, serial: Path, tmp_path: Path
):
    calls: list[tuple[str, int, int | None]] = []
    res = run_project(
        load_config(data),
        tmp_path / "out",
        jobs=2,
        analyses=False,
        report=False,
        progress=lambda *a: calls.append(a),
    )
    assert res.complete
    _assert_same_tables(tmp_path / "out", serial)
    for sid in _session_ids(serial):
        steps = [a for st, a, _ in calls if st == f"session {sid}"]
        n = len(pd.read_parquet(serial / "sessions" / sid / "frames.parquet"))
        assert sum(steps) == n
        assert len([a for a in steps if a]) > 3  # per chunk, while it runs, not once at the end
    assert sum(a for st, a, _ in calls if st == "features") == len(
        pd.concat(
            [pd.read_parquet(p) for p in (serial / "sessions").glob("*/frames.parquet")],
            ignore_index=True,
        )
    )


def test_dask_local_cluster_gives_the_serial_tables(data: Path, serial: Path, tmp_path: Path):
    from distributed import LocalCluster

    calls: list[tuple[str, int, int | None]] = []
    said: list[str] = []
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback only, a free port
    ) as cluster:
        res = run_project(
            load_config(data),
            tmp_path / "out",
            scheduler=cluster.scheduler_address,
            analyses=False,
            report=False,
            progress=lambda *a: calls.append(a),
            inform=said.append,
        )
        port = cluster.scheduler_info["services"]["dashboard"]
    assert res.complete
    assert said == [f"dask dashboard: http://127.0.0.1:{port}/status"]
    _assert_same_tables(tmp_path / "out", serial)
    for sid in _session_ids(serial):
        n = len(pd.read_parquet(serial / "sessions" / sid / "frames.parquet"))
        assert sum(a for st, a, _ in calls if st == f"session {sid}") == n


def test_scheduler_that_does_not_answer_is_exit_2_within_10_s(data: Path, tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = CliRunner().invoke(
        app, ["run", str(data), "--out", str(out), "--scheduler", f"tcp://127.0.0.1:{port}"]
    )
    took = time.monotonic() - t0
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert f"--scheduler tcp://127.0.0.1:{port}: no dask scheduler answered within" in text
    assert took < 10
    assert not out.exists()  # checked before anything is written


_CRASH = """
import os
from mouseface.pipeline.session import extract_session


def extract(s, cfg, out, *, resume, progress):
    if s.id != {victim!r}:
        return extract_session(s, cfg, out, resume=resume, progress=progress)

    def die(n):
        progress(n)
        os._exit(3)  # the worker process dies mid-session, after its first chunk

    return extract_session(s, cfg, out, resume=resume, progress=die)
"""


def test_worker_that_dies_fails_only_its_session(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cfg = load_config(data)
    victim = cfg.sessions[1].id
    (tmp_path / "crash_extract.py").write_text(textwrap.dedent(_CRASH.format(victim=victim)))
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get this sys.path
    import crash_extract

    inputs = validate_stage(cfg, strict_emotions=True)
    results = extract_sessions(inputs, cfg, tmp_path / "out", jobs=2, extract=crash_extract.extract)
    assert [r.session if isinstance(r, SessionFailure) else r.id for r in results] == [
        s.id for s in inputs
    ]
    failed = [r for r in results if isinstance(r, SessionFailure)]
    assert len(failed) == 1
    f = failed[0]
    assert (f.session, f.kind, f.frame, f.kept) == (victim, "worker", cfg.chunk_size, False)
    assert str(f).startswith(f"session {victim} failed at frame {cfg.chunk_size} (worker died)")
    ok = [r for r in results if isinstance(r, SessionFeatures)]
    assert len(ok) == len(inputs) - 1 and all(len(r.times) > 100 for r in ok)
    assert not (tmp_path / "out" / "sessions" / victim / "features.zarr").exists()


def test_disk_full_fails_one_session_and_keeps_earlier_outputs(
    data: Path, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    before = _snapshot(out)
    cfg = load_config(data)
    victim = cfg.sessions[2].id
    append = zarr.Array.append

    def full(self, data, axis=0):  # noqa: ANN001
        if f"/{victim}/" in str(self.store_path) and self.shape[0] >= 2 * cfg.chunk_size:
            raise OSError(errno.ENOSPC, "No space left on device")
        return append(self, data, axis=axis)

    monkeypatch.setattr(zarr.Array, "append", full)
    res = CliRunner().invoke(
        app, ["run", str(data), "--out", str(out), "--no-analyses", "--no-report"]
    )
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert f"session {victim} failed at frame {2 * cfg.chunk_size} (error): OSError" in text
    assert "No space left on device" in text and "partial run: 1 session(s) failed" in text
    prov = json.loads((out / "provenance.json").read_text())
    assert [(f["session"], f["frame"], f["kept"]) for f in prov["failures"]] == [
        (victim, 2 * cfg.chunk_size, False)
    ]
    assert victim not in prov["sessions"]
    assert victim not in [s["id"] for s in prov["config"]["sessions"]]  # analyses read these
    assert any(
        w.startswith(f"session {victim} failed") and "left out" in w for w in prov["warnings"]
    )
    trials = pd.read_parquet(out / "trials.parquet")
    assert victim not in set(trials["session"]) and trials["session"].nunique() == 3
    # the failed session's outputs of the earlier run are untouched, nothing half-written
    after = _snapshot(out)
    mine = [k for k in before if k.startswith(f"sessions/{victim}/")]
    assert mine and all(after[k] == before[k] for k in mine)
    assert _hidden_temporaries(out) == []


def _remux_faststart(src: Path, dst: Path) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as o:
        s_in = inp.streams.video[0]
        s_out = o.add_stream_from_template(s_in)
        for pkt in inp.demux(s_in):
            if pkt.dts is None:
                continue
            pkt.stream = s_out
            o.mux(pkt)


@pytest.mark.filterwarnings("ignore::mouseface.errors.DecodeWarning")
def test_video_broken_mid_way_fails_its_session_with_the_frame(
    data: Path, serial: Path, tmp_path: Path
):
    root = tmp_path / "data"
    shutil.copytree(data.parent, root, ignore=shutil.ignore_patterns("truth"))
    cfg = load_config(root / "mouseface.yaml")
    victim = cfg.sessions[0]
    full = tmp_path / "full.mp4"
    _remux_faststart(victim.video, full)
    blob = full.read_bytes()
    victim.video.write_bytes(blob[: len(blob) // 2])
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    before = _snapshot(out)
    res = run_project(cfg, out, analyses=False, report=False)
    assert [(f.session, f.kind, f.kept) for f in res.failures] == [(victim.id, "input", False)]
    f = res.failures[0]
    n_full = len(pd.read_parquet(serial / "sessions" / victim.id / "frames.parquet"))
    assert 0 < f.frame < n_full
    assert f"decoding stopped at frame {f.frame}" in f.message
    assert victim.id not in set(res.trials["session"])
    after = _snapshot(out)
    mine = [k for k in before if k.startswith(f"sessions/{victim.id}/")]
    assert mine and all(after[k] == before[k] for k in mine)
