"""The model registry: ``models/manifest.yaml`` loaded, validated and checked against the files.

Published model files are never committed; the manifest says which files the project expects,
their sha256 and size, where to fetch each one publicly and under which licence. Weights trained
here and committed (``location: repo``, e.g. the mask head) are listed the same way, with a path
relative to ``models/`` and the training code as their source. ``anshin models verify`` runs
:func:`verify` over a models directory and the repository's own files.

A model's ``version`` is the first 12 hex digits of its main file's sha256: the same string a
detector reports as ``model_version``, so an event names exactly the bytes that produced it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from edge.paths import PROJECT_ROOT
from services.shared.strict import Strict

MANIFEST_PATH = PROJECT_ROOT / "models" / "manifest.yaml"
_SHA256 = r"^[0-9a-f]{64}$"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_file(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class FileRef(Strict):
    """One file a model needs, as published."""

    file: str = Field(description="file name in the models directory")
    sha256: str = Field(pattern=_SHA256, description="lower-case hex sha256 of the exact bytes")
    bytes: int = Field(gt=0, description="size in bytes")
    role: str = Field(default="weights", description="what the file is for, e.g. weights, graph (Caffe prototxt)")


class ModelEntry(FileRef):
    """One loadable model: its main file plus any companion files, with provenance and I/O facts."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="registry key, usually the main file's stem")
    version: str = Field(pattern=r"^[0-9a-f]{12}$", description="first 12 hex digits of sha256")
    source: str = Field(min_length=10, description="exact public source: repository @ commit : path, or PyPI pin : path")
    license: str = Field(min_length=2)
    task: str = Field(description="detect, pose, face-detect, face-mask-detect, mask-classify, ...")
    runtime: str = Field(description="how to load it, e.g. onnxruntime / ultralytics, cv2.dnn (OpenCV 4.x)")
    input_size: tuple[int, int] | None = Field(description="network input (width, height) in pixels; null = any")
    preprocessing: str = Field(min_length=3, description="colour order, scaling, resizing")
    output: str = Field(min_length=3, description="output tensor layout")
    classes: list[str] = Field(min_length=1, description="class names by id")
    companions: list[FileRef] = Field(default=[], description="other files the model needs (e.g. a Caffe prototxt)")
    derived_from: str | None = Field(default=None, description="registry name of the model this one was converted from")
    requires: list[str] = Field(default=[], description="registry names of other models it needs at run time (e.g. a backbone)")
    location: Literal["models_dir", "repo", "package"] = Field(
        default="models_dir",
        description="models_dir: fetched into $ANSHIN_MODELS_DIR, never committed; "
        "repo: trained here and committed, files are paths relative to models/; "
        "package: shipped inside a pinned Python package (``package``), files are paths inside it",
    )
    package: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.]+$",
                                description="importable package holding the files (location: package), e.g. face_recognition_models")
    card: str | None = Field(default=None, description="model card path relative to models/")

    @model_validator(mode="after")
    def _version_is_hash_prefix(self) -> ModelEntry:
        if self.version != self.sha256[:12]:
            raise ValueError(f"model {self.name!r}: version {self.version!r} must be sha256[:12] = {self.sha256[:12]!r}")
        return self

    @model_validator(mode="after")
    def _file_fits_location(self) -> ModelEntry:
        for ref in self.files:
            path = PurePosixPath(ref.file)
            if self.location == "models_dir" and len(path.parts) != 1:
                raise ValueError(f"model {self.name!r}: file {ref.file!r} must be a bare file name in the models directory")
            if self.location == "package" and not self.package:
                raise ValueError(f"model {self.name!r}: location package needs `package` (the importable package holding it)")
            if self.location in ("repo", "package") and (path.is_absolute() or ".." in path.parts or "\\" in ref.file):
                raise ValueError(f"model {self.name!r}: file {ref.file!r} must be a path inside models/ (relative, no '..')")
        return self

    @property
    def files(self) -> list[FileRef]:
        """Main file first, then companions."""
        main = FileRef(file=self.file, sha256=self.sha256, bytes=self.bytes, role=self.role)
        return [main, *self.companions]


class Manifest(Strict):
    schema_version: Literal[2] = Field(description="2 added location (repo files) and requires")
    class_lists: dict[str, list[str]] = Field(default={}, description="shared class lists, referenced by YAML anchors")
    models: list[ModelEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        for what, values in (("name", [m.name for m in self.models]),
                             ("file", [f.file for m in self.models for f in m.files])):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate model {what}(s): {dupes}")
        names = {m.name for m in self.models}
        for model in self.models:
            if model.derived_from is not None and model.derived_from not in names:
                raise ValueError(f"model {model.name!r}: derived_from {model.derived_from!r} is not in the manifest")
            for needed in model.requires:
                if needed not in names or needed == model.name:
                    raise ValueError(f"model {model.name!r}: requires {needed!r}, which is not another model in the manifest")
        return self

    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path:
        """The folder the manifest was loaded from: where ``location: repo`` files and cards live."""
        return self._base_dir or MANIFEST_PATH.parent

    def get(self, name: str) -> ModelEntry:
        """The entry named ``name`` (or whose main file is ``name``); KeyError lists the known names."""
        for model in self.models:
            if name in (model.name, model.file):
                return model
        raise KeyError(f"no model {name!r} in the manifest; known: {[m.name for m in self.models]}")


class ManifestError(ValueError):
    """The manifest file is missing, not YAML, or does not match the schema."""


def load_manifest(path: str | Path = MANIFEST_PATH) -> Manifest:
    """Parse and validate the manifest; errors name the file and each offending field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ManifestError(f"model manifest {path} not found") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"model manifest {path}: not valid YAML: {exc}") from exc
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ManifestError(f"model manifest {path}:\n  " + "\n  ".join(lines)) from exc
    for model in manifest.models:
        if model.card is not None and not (path.parent / model.card).is_file():
            raise ManifestError(f"model manifest {path}: model {model.name!r} names card {model.card!r}, which does not exist")
    manifest._base_dir = path.resolve().parent
    return manifest


class Status(StrEnum):
    OK = "ok"
    MISSING = "missing"
    WRONG_SIZE = "wrong size"
    WRONG_HASH = "wrong hash"


@dataclass(frozen=True, slots=True)
class FileCheck:
    """The outcome of checking one expected file."""

    model: str
    file: str
    path: Path
    status: Status
    expected_sha256: str
    actual_sha256: str | None
    source: str
    location: str = "models_dir"

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def describe(self) -> str:
        """One human line, e.g. ``yolov8n_int8  yolov8n_int8.onnx  ok``."""
        head = f"{self.model:<42} {self.file:<46} {self.status.value}"
        got = self.actual_sha256 or "?"
        if self.location == "repo":  # committed here: git has the right bytes, the training code can remake them
            if self.status is Status.MISSING:
                return f"{head}: not at {self.path}; it is committed to this repository: restore it with git, or retrain it ({self.source})"
            if self.status is not Status.OK:
                return (f"{head}: expected sha256 {self.expected_sha256}, got {got}; restore it with git, or, if it was "
                        f"retrained on purpose, update its sha256, bytes and version in the manifest")
            return head
        if self.location == "package" and self.status is not Status.OK:
            return f"{head}: {self.status.value} at {self.path}; install the pinned package ({self.source})"
        if self.status is Status.MISSING:
            return f"{head}: not in {self.path.parent}; fetch it from {self.source}"
        if self.status is Status.WRONG_SIZE or self.status is Status.WRONG_HASH:
            return f"{head}: expected sha256 {self.expected_sha256}, got {got}; re-fetch it from {self.source}"
        return head


def _package_dir(package: str | None) -> Path:
    """The installed folder of ``package`` (found without importing it); a non-existent path when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        return Path(f"<package {package} not installed>")
    return Path(next(iter(spec.submodule_search_locations)))


def check_file(model: ModelEntry, ref: FileRef, models_dir: Path, repo_dir: Path = MANIFEST_PATH.parent) -> FileCheck:
    """Presence, size, then sha256 (size first: a cheap way to catch truncated copies).

    ``location: repo`` files are looked up under ``repo_dir`` (the manifest's folder), others under ``models_dir``.
    """
    path = (repo_dir if model.location == "repo" else _package_dir(model.package) if model.location == "package" else models_dir) / ref.file

    def result(status: Status, actual: str | None = None) -> FileCheck:
        return FileCheck(model.name, ref.file, path, status, ref.sha256, actual, model.source, model.location)

    if not path.is_file():
        return result(Status.MISSING)
    if path.stat().st_size != ref.bytes:
        return result(Status.WRONG_SIZE, sha256_file(path))
    actual = sha256_file(path)
    return result(Status.OK if actual == ref.sha256 else Status.WRONG_HASH, actual)


def verify(manifest: Manifest, models_dir: Path, names: list[str] | None = None) -> list[FileCheck]:
    """Check every file of every (or each named) model: published ones in ``models_dir``, committed ones in the repository."""
    models = manifest.models if not names else [manifest.get(n) for n in names]
    return [check_file(m, ref, models_dir, manifest.base_dir) for m in models for ref in m.files]


def unlisted_files(manifest: Manifest, models_dir: Path) -> list[str]:
    """Files in ``models_dir`` that no manifest entry names (informational)."""
    listed = {f.file for m in manifest.models if m.location == "models_dir" for f in m.files}
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if p.is_file() and p.name not in listed
                  and not re.match(r"^\.", p.name))


class ModelIntegrityError(RuntimeError):
    """A model file is missing or is not the published bytes."""


def required_models(manifest: Manifest, name: str) -> list[str]:
    """``name`` and, transitively, every model it ``requires`` (each once, ``name`` first)."""
    order: list[str] = []
    pending = [manifest.get(name).name]
    while pending:
        current = pending.pop(0)
        if current not in order:
            order.append(current)
            pending.extend(manifest.get(current).requires)
    return order


def require_verified(name: str, models_dir: Path, manifest: Manifest | None = None) -> ModelEntry:
    """The manifest entry for ``name`` after checking its files and those of the models it requires.

    Raises :class:`ModelIntegrityError` naming every missing or altered file.
    """
    manifest = manifest or load_manifest()
    entry = manifest.get(name)
    problems = [c.describe() for c in verify(manifest, models_dir, required_models(manifest, entry.name)) if not c.ok]
    if problems:
        raise ModelIntegrityError("\n".join(problems))
    return entry
