"""Fit manifests: which files a model, head or calibration was fitted or tuned on, by content hash.

An evaluation on data the artifact has seen measures memorisation, not accuracy. Every artifact we
fit or tune keeps a ``<name>.fit.json`` manifest beside it (the committed mask head and count
calibrations), or beside its model card for a published model whose file is not in the repository
(a detector trained on COCO photos that are also in our media). The manifest lists the sha256 of
every file used, so a renamed copy is still recognised. ``anshin eval`` commands hash what they
evaluate, compare, and say so in their JSON (``fitted_on_this_data``) and on stderr.

>>> m = FitManifest(artifact="head.npz", role="trained", data="demo", command="train", sha256=[digest_of(b"a")])
>>> check([digest_of(b"a"), digest_of(b"b")], [m])["fitted_overlap"]
0.5
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from edge.eval.json_files import JsonFile
from edge.paths import PROJECT_ROOT

SUFFIX = ".fit.json"
CARDS_DIR = PROJECT_ROOT / "models" / "cards"


class FitManifest(JsonFile):
    """The files (by sha256) one artifact was fitted or tuned on."""

    what: ClassVar[str] = "fit manifest"
    indent: ClassVar[int] = 1

    artifact: str = Field(description="the artifact this describes: its path from the project root, or a registry name")
    role: Literal["trained", "fitted", "tuned"] = Field(description="how the files were used")
    data: str = Field(description="what the files are, in words (folder, frames, selection)")
    command: str = Field(description="the command that fitted the artifact, or how the list was made")
    sha256: list[str] = Field(description="sorted, unique sha256 hex digests of the files used")

    @classmethod
    def of(cls, artifact: str, role: Literal["trained", "fitted", "tuned"], data: str, command: str,
           digests: Iterable[str]) -> FitManifest:
        return cls(artifact=artifact, role=role, data=data, command=command, sha256=sorted(set(digests)))


def digest_of(data: bytes) -> str:
    """sha256 hex digest of bytes.

    >>> digest_of(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def frame_digest(video_sha256: str, frame: int) -> str:
    """The identity of frame ``frame`` (1-based) of the video whose file has that sha256.

    Decoded pixels differ between codec builds; the file's bytes and the index do not.

    >>> frame_digest("ab", 1) == frame_digest("ab", 1) != frame_digest("ab", 2)
    True
    """
    return digest_of(f"video-frame:{video_sha256}:{frame}".encode())


def file_digests(paths: Iterable[Path]) -> list[str]:
    """sha256 of each file's bytes, in order."""
    return [digest_of(Path(p).read_bytes()) for p in paths]


def manifest_path(artifact: Path) -> Path:
    """Where an artifact's manifest lives: beside it, ``<stem>.fit.json``.

    >>> manifest_path(Path("models/calibration/mall.json")).as_posix()
    'models/calibration/mall.fit.json'
    """
    return artifact.with_name(artifact.stem + SUFFIX)


def card_manifest(model_name: str) -> Path:
    """The manifest of a published model (file not in the repository): beside its card."""
    return CARDS_DIR / f"{model_name}{SUFFIX}"


def existing(paths: Iterable[Path]) -> list[FitManifest]:
    """The manifests among ``paths`` that exist (an artifact nobody fitted here has none)."""
    return [FitManifest.load(p) for p in paths if Path(p).is_file()]


def check(digests: Sequence[str], manifests: Sequence[FitManifest]) -> dict[str, object]:
    """How much of the evaluated data (``digests``, one per file) each manifest's artifact has seen.

    ``fitted_overlap`` is the fraction of evaluated files seen by any of them.

    >>> check([digest_of(b"x")], [])
    {'fitted_on_this_data': False, 'fitted_overlap': 0.0, 'fitted_artifacts': [], 'fit_manifests_checked': []}
    """
    seen_any: set[int] = set()
    artifacts = []
    for m in manifests:
        fit = set(m.sha256)
        hits = [i for i, d in enumerate(digests) if d in fit]
        seen_any.update(hits)
        if hits:
            artifacts.append({"artifact": m.artifact, "role": m.role, "data": m.data, "files_in_fit": len(hits),
                              "fraction": round(len(hits) / len(digests), 4)})
    return {
        "fitted_on_this_data": bool(seen_any),
        "fitted_overlap": round(len(seen_any) / len(digests), 4) if len(digests) else 0.0,
        "fitted_artifacts": artifacts,
        "fit_manifests_checked": [m.artifact for m in manifests],
    }


def check_files(files: Sequence[Path], manifests: Sequence[FitManifest]) -> dict[str, object]:
    """:func:`check` on files, hashed here."""
    return check(file_digests(files), manifests)


def warn(report: dict[str, object], out=None) -> None:  # type: ignore[no-untyped-def]
    """One stderr line per artifact that has seen the evaluated data (nothing when none has)."""
    for a in report["fitted_artifacts"]:  # type: ignore[attr-defined]
        print(f"warning: {a['files_in_fit']} of the evaluated files ({a['fraction']:.1%}) were in the data "
              f"{a['artifact']} was {a['role']} on ({a['data']}); these figures measure memorisation, not accuracy "
              "on unseen data", file=out or sys.stderr)
