"""Fixtures for the edge runtime tests (sources, outbox, publisher, worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.paths import media_dir

PETS = "pets2009_vtest_480x360.mp4"


@pytest.fixture(scope="session")
def pets_video() -> Path:
    path = media_dir() / PETS
    if not path.is_file():
        pytest.fail(f"test video {path} missing; set ANSHIN_MEDIA_DIR (see ../shared/data/MANIFEST.md)")
    return path
