"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
