"""Where models and media live. Nothing is downloaded: a missing file is a clear error."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def models_dir() -> Path:
    """``$ANSHIN_MODELS_DIR``, else ``../shared/data/models`` beside the project."""
    return Path(os.environ.get("ANSHIN_MODELS_DIR") or SHARED_DATA / "models")


def media_dir() -> Path:
    """``$ANSHIN_MEDIA_DIR``, else ``../shared/data/media`` beside the project."""
    return Path(os.environ.get("ANSHIN_MEDIA_DIR") or SHARED_DATA / "media")


def resolve_model(name_or_path: str | os.PathLike[str]) -> Path:
    """A model file by name (in :func:`models_dir`) or by path; raises FileNotFoundError naming both."""
    path = Path(name_or_path)
    if path.is_absolute():
        candidate = path
    elif path.parent == Path("."):
        candidate = models_dir() / path  # a published model, by file name
    else:  # a path: from the working directory, else inside the repository's models/ (weights we train)
        in_repo = PROJECT_ROOT / "models" / path
        candidate = path if path.is_file() or not in_repo.is_file() else in_repo
    if not candidate.is_file():
        raise FileNotFoundError(
            f"model file {candidate} not found. Set ANSHIN_MODELS_DIR to the folder holding it; "
            f"models/manifest.yaml names its public source and sha256 (see `anshin models verify`)."
        )
    return candidate
