"""Event types: each one declared once, with its use case, review rules and typed payload.

A use case module (``services/contract/usecases/<name>.py``) declares its types as
:class:`EventTypeSpec` values; :mod:`services.contract.registry` collects them. Edge and central
read the same declaration: which use case a type belongs to, its usual severity, whether staff
review it (and whether two different people must decide), its default review deadline, and the
pydantic model its ``payload`` must match.

>>> class Ping(Payload):
...     count: Count
>>> spec = EventTypeSpec("demo.ping", UseCase.J, Severity.INFO, Ping, "a ping")
>>> spec.validate({"count": 3})
Ping(count=3)
>>> try:
...     spec.validate({"count": "3"})
... except PayloadRejected as e:
...     e.errors[0]["loc"], e.errors[0]["type"]
(('payload', 'count'), 'int_type')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError

from services.contract.events import Severity, UseCase
from services.shared.strict import Strict

#: A field error as ingest reports it: ``loc`` relative to the event, ``msg``, ``type``.
FieldError = dict[str, Any]

#: Largest count of anything (people, frames, track ids) a payload may carry.
MAX_COUNT = 1_000_000_000
#: Longest free-text value in a payload.
MAX_TEXT = 1_000

# Bounded, finite building blocks for payload models. ``strict`` (on the model) refuses "3" for a
# number and true for a count: a payload is stored as sent, so what passes must already be right.
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Seconds = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Celsius = Annotated[float, Field(ge=-100.0, le=200.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class Payload(Strict):
    """Base of every payload model: only declared fields, strict types, finite numbers."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)  # on top of Strict: no extra fields, frozen


class PayloadRejected(ValueError):
    """An event whose type is unknown, whose use case is not its type's, or whose payload does not
    match its type's model. ``errors`` name each field (``loc`` relative to the event)."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors))


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    """One event type, declared once by its use case."""

    type: str
    use_case: UseCase
    severity: Severity  # what the edge normally sends; a sender may raise or lower it
    payload: type[Payload]
    description: str
    review: bool = False  # staff review each event of this type (review_required must say so)
    two_person: bool = False  # two different people must decide (central settings may override)
    review_deadline_s: int | None = None  # None: central's default deadline (settings may override)

    def __post_init__(self) -> None:
        if self.two_person and not self.review:
            raise ValueError(f"{self.type}: the two-person rule needs review=True")
        if self.review_deadline_s is not None and (not self.review or self.review_deadline_s <= 0):
            raise ValueError(f"{self.type}: a review deadline needs review=True and > 0 seconds")

    def validate(self, payload: Any) -> Payload:
        """The payload as its model, or :class:`PayloadRejected` naming each bad field."""
        try:
            return self.payload.model_validate(payload)
        except ValidationError as e:
            raise PayloadRejected([
                {"loc": ("payload", *err["loc"]), "msg": err["msg"], "type": err["type"]}
                for err in e.errors(include_url=False, include_input=False, include_context=False)
            ]) from None

    def describe(self) -> dict[str, Any]:
        """What ``anshin schema types`` lists for this type."""
        return {
            "type": self.type, "use_case": self.use_case.value, "severity": self.severity.value,
            "review": self.review, "two_person": self.two_person, "review_deadline_s": self.review_deadline_s,
            "description": self.description, "payload_schema": self.payload.model_json_schema(),
        }

