"""Eval artifacts kept as JSON files (count calibrations, fit manifests): one way to write and read them.

>>> import tempfile
>>> class Note(JsonFile):
...     what: ClassVar[str] = "note"
...     text: str
>>> path = Path(tempfile.mkdtemp()) / "a" / "note.json"
>>> Note(text="hi").save(path); Note.load(path).text
'hi'
>>> Note.load(path.with_name("missing.json"))
Traceback (most recent call last):
...
FileNotFoundError: note .../missing.json not found
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar, Self

from services.shared.strict import Strict


class JsonFile(Strict):
    """A strict model saved as indented JSON; errors on loading name the kind of file and its path."""

    what: ClassVar[str] = "file"  # how errors call it, e.g. "calibration file"
    indent: ClassVar[int] = 2

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.model_dump(mode="json"), indent=self.indent) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{cls.what} {path} not found") from exc
        except ValueError as exc:
            raise ValueError(f"{cls.what} {path}: {exc}") from exc
