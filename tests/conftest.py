"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

# One BLAS/OpenMP thread for the whole suite, unless the caller chose (OMP_NUM_THREADS set). The
# tests fit many small models (tens of trials, a few thousand frames), where a second BLAS
# thread gains nothing, and on a 2-core machine that is busy with anything else (another job,
# the --jobs 2 and n_jobs=-1 worker processes the tests start) an idle BLAS thread spins against
# the busy core: neural decoding's permutation test (mouseface.neural.decoding) took 20.5 s
# instead of 1.1 s, `mouseface demo` 406 s instead of 266 s. The variables reach the libraries
# loaded later and the worker processes; threadpool_limits the BLAS numpy has already loaded
# (pytest's zarr plugin imports numpy before this file).
if "OMP_NUM_THREADS" not in os.environ:
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    threadpool_limits(limits=1)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which appends the group to node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test an ``xdist_group``: "der" for the users of the session fixture
    ``der_run``, else its module's path.

    The suite runs on 2 workers with ``--dist loadgroup`` (pyproject's ``addopts``), which sends
    every test of one group to the same worker: each module's module-scoped fixtures are built
    once, as in a serial run, and so is ``der_run`` (the DER run, minutes), which tests in two
    modules share. The other session fixtures only name paths, cheap to make on both workers.
    xdist carries the group to its scheduler as a node id suffix (``...::test@group``), which
    pytest 9.2 drops (pytest-xdist#1386: tests spread over both workers, nothing fails): hence
    pytest < 9.2 in the ``test`` extra. Nothing is marked without xdist (``-p no:xdist``), where
    the mark is not registered.
    """
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if "der_run" in getattr(item, "fixturenames", ()):
            group = "der"
        else:
            group = item.path.relative_to(config.rootpath).as_posix()
        item.add_marker(pytest.mark.xdist_group(group))


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips (or fails under MOUSEFACE_REQUIRE_DATA=1) when absent."""
    if not (SHARED_DATA / "der").is_dir():
        msg = f"real-video test data not found at {SHARED_DATA} (needs ../shared/data)"
        if os.environ.get("MOUSEFACE_REQUIRE_DATA") == "1":
            pytest.fail(msg + " but MOUSEFACE_REQUIRE_DATA=1")
        pytest.skip(msg)
    return SHARED_DATA


@pytest.fixture(scope="session")
def pupil_video(shared_data: Path) -> Path:
    """The real close-up IR face video (800x480, 25 fps, 749 frames)."""
    return shared_data / "pupil" / "sample_video.mp4"


@pytest.fixture(scope="session")
def der_dir(shared_data: Path) -> Path:
    """Folder of the DER tail-shock videos."""
    return shared_data / "der"


@pytest.fixture(scope="session")
def der_run(der_dir: Path, tmp_path_factory) -> Path:
    """Output folder of the DER dose-response check, run as ../shared/tools/README.md says: cut
    the mosaics into one session per trial with der_tiles.py, then `mouseface run`.

    Every analysis runs on these real videos, the decoding analysis with its ``animal`` and
    ``random`` schemes only: its ``session`` scheme would hold out each of the 90 one-trial
    sessions in turn (90 of its 98 folds; 200 s of the 320 s run, and no test reads it; the
    scheme is tested in tests/integration/analyses/test_analyses_decoding.py). The pipeline's
    own decoding (``decoding.parquet``, ``predicted``) always leaves one animal out: on the
    same tiles, ``trials.parquet``, ``decoding.parquet`` and every ``frames.parquet`` were
    identical with and without this option.
    """
    import yaml
    from typer.testing import CliRunner

    from mouseface.analyses import ANALYSES
    from mouseface.cli import app

    root = tmp_path_factory.mktemp("der")
    tool = der_dir.parents[1] / "tools" / "der_tiles.py"
    mosaics = sorted(str(p) for p in der_dir.glob("*-der.mp4"))
    assert len(mosaics) == 3
    subprocess.run(
        [sys.executable, str(tool), str(root / "tiles"), *mosaics], check=True, capture_output=True
    )
    analyses = {name: {} for name in ANALYSES} | {"decoding": {"schemes": ["animal", "random"]}}
    with (root / "tiles" / "mouseface.yaml").open("a") as fh:
        fh.write(yaml.safe_dump({"analyses": analyses}, sort_keys=False))  # registry order
    res = CliRunner().invoke(
        app,
        ["run", str(root / "tiles" / "mouseface.yaml"), "--out", str(root / "out"), "--jobs", "2"],
    )
    assert res.exit_code == 0, res.output
    return root / "out"
