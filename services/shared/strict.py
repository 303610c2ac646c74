"""The base of every config section and contract model.

>>> class Zone(Strict):
...     name: str
>>> Zone(name="door").name
'door'
>>> from pydantic import ValidationError
>>> try:
...     Zone(name="door", colour="red")
... except ValidationError as exc:
...     exc.errors()[0]["type"]
'extra_forbidden'
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors (a misspelt option must not be ignored) and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
