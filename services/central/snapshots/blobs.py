"""Content-addressed JPEG files: ``<root>/<sha256>.jpg``, written atomically, never rewritten.

Several central replicas must share ``root`` (a volume), as they share the database.

>>> ref_of("ab" * 32) == "sha256:" + "ab" * 32, parse_ref("sha256:" + "AB" * 32) == "ab" * 32
(True, True)
>>> parse_ref("entrance/1234.jpg") is None, parse_ref("sha256:xyz") is None
(True, True)
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_REF = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


def ref_of(sha256: str) -> str:
    """The ``snapshot_ref`` an event's evidence carries for a stored snapshot."""
    return f"sha256:{sha256}"


def parse_ref(ref: str | None) -> str | None:
    """The lower-case hex digest of a central snapshot ref; None for anything else (e.g. an
    edge-local key, which central cannot resolve)."""
    m = _REF.fullmatch(ref or "")
    return m.group(1).lower() if m else None


class BlobStore:
    """JPEG files addressed by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / f"{sha256}.jpg"

    def save(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        self.root.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, two writers of the same bytes both win.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def read(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
