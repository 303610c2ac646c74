"""One way to read a small YAML settings file into a typed model, with errors that name the file
and every field at fault (a floor plan, a shelf config, a ventilation site, a kiosk).

The store config has its own, richer reader (``edge.config_errors``: line numbers, "did you mean").

>>> from pydantic import BaseModel
>>> class Kiosk(BaseModel):
...     width_px: int
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "kiosk.yaml"
>>> _ = path.write_text("width_px: wide\\n")
>>> try:
...     load_yaml_model(path, Kiosk, what="kiosk config")
... except ValueError as e:
...     print(str(e).split(": ", 1)[1])
width_px: Input should be a valid integer, unable to parse string as an integer
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def load_yaml_model(path: str | Path, model: type[M], error: type[ValueError] = ValueError, what: str = "settings") -> M:
    """``path`` read as YAML and validated as ``model``.

    Raises:
        error: (a :class:`ValueError` subclass) the file is missing or unreadable, not YAML, not a
            mapping, or does not fit ``model``; the message starts with the path and names each field.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} must be a YAML mapping of settings, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise error(f"{path}: " + "; ".join(problems)) from None
