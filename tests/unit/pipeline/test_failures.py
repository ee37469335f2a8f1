"""Failure bookkeeping of a run: how a failed session reads, the dask dashboard link, and the
clean-up of what a killed run left half-written."""

from __future__ import annotations

from pathlib import Path

from mouseface.pipeline.parallel import SessionFailure, dashboard_link
from mouseface.pipeline.run import remove_stale_temporaries


def test_failure_names_session_frame_and_fate():
    f = SessionFailure(session="s2", frame=64, kind="error", message="OSError: disk full")
    assert str(f) == (
        "session s2 failed at frame 64 (error): OSError: disk full "
        "[left out of prototypes, strength, trials and decoding]"
    )
    kept = SessionFailure(session="s1", frame=93, kind="decode", message="x", kept=True)
    assert "failed at frame 93 (video broken)" in str(kept) and "frames before it" in str(kept)
    lost = SessionFailure(session="s3", frame=None, kind="worker", message="lost")
    assert str(lost).startswith("session s3 failed (worker died): lost")
    assert f.as_dict() == {
        "session": "s2",
        "frame": 64,
        "kind": "error",
        "message": "OSError: disk full",
        "kept": False,
        "detail": None,
    }


class _Client:
    def __init__(self, services: dict) -> None:
        self.services = services
        self.dashboard_link = "http://127.0.0.1:8787/status"

    def scheduler_info(self) -> dict:
        return {"services": self.services}


def test_dashboard_link_only_when_the_scheduler_has_one():
    assert dashboard_link(_Client({"dashboard": 8787})) == "http://127.0.0.1:8787/status"
    assert dashboard_link(_Client({})) is None


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path: Path):
    sess = tmp_path / "sessions" / "a"
    (sess / "features.zarr").mkdir(parents=True)
    (sess / ".features.zarr.0123456789ab.tmp" / "hog").mkdir(parents=True)
    (sess / ".frames.parquet.0123456789ab.parquet").write_bytes(b"half")
    (tmp_path / ".trials.parquet.abcdef012345.parquet").write_bytes(b"half")
    (tmp_path / ".provenance.json.abcdef012345.tmp").write_bytes(b"half")
    (tmp_path / "trials.parquet").write_bytes(b"whole")
    (tmp_path / ".keep.me").write_bytes(b"not ours")
    (sess / ".features.zarr.tmp").mkdir()  # no 12-hex tag: not an atomic writer's name
    removed = remove_stale_temporaries(tmp_path)
    assert len(removed) == 4
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == [
        ".keep.me",
        "sessions",
        "sessions/a",
        "sessions/a/.features.zarr.tmp",
        "sessions/a/features.zarr",
        "trials.parquet",
    ]
