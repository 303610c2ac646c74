"""Event contract v1: the only thing edge and central share.

An :class:`Event` is the envelope every edge worker publishes and central stores. It is
versioned (``schema_version``), identified by a UUID (``event_id``) so retries are idempotent,
and an alert that needs a human carries an :class:`Explanation` so reviewers see why it fired.

>>> from datetime import datetime, timezone
>>> e = Event(type="zone.occupancy", use_case=UseCase.F, store_id="tokyo-01",
...           camera_id="aisle-1", occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
...           payload={"zone": "aisle", "count": 3, "capacity": 10})
>>> e.schema_version, e.severity.value, e.review_required
('1.0', 'info', False)
>>> Event.model_validate_json(e.model_dump_json()) == e
True
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, Field, model_validator

from services.shared.strict import Strict

SCHEMA_VERSION = "1.0"
SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})

#: Largest accepted HTTP body; a batch that needs more must be split by the sender.
MAX_BODY_BYTES = 1_048_576
#: Largest batch accepted in one request.
MAX_BATCH = 500

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class UseCase(StrEnum):
    """The ten store use cases of the AI Network Society Promotion Council report (2021)."""

    A = "A"  # entrance screening (masks, body-surface temperature)
    B = "B"  # congestion-avoiding routes
    C = "C"  # remote customer service
    D = "D"  # contactless ordering
    E = "E"  # face-recognition checkout (opt-in)
    F = "F"  # density and work environment
    G = "G"  # ventilation control
    H = "H"  # suspicious behaviour
    I = "I"  # robot restocking  # noqa: E741
    J = "J"  # sales and purchasing


class Severity(StrEnum):
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    CRITICAL = "critical"


def _identifier(value: str) -> str:
    # fullmatch, not match: ``$`` also matches before a final newline, so "s1\n" would pass.
    if not _ID.fullmatch(value):
        raise ValueError("must be 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or digit")
    return value


def _event_type(value: str) -> str:
    if not _TYPE.fullmatch(value):
        raise ValueError("must be dotted lower-case words such as 'zone.occupancy'")
    return value


#: Latest accepted time, relative to the receiver's clock: a device clock running ahead would
#: otherwise pin "latest" pages and edge statuses to the future until real time caught up.
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: Earliest accepted time: anything older is a device clock that was never set (1970, year 1).
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a time without a zone, or one that cannot be expressed in UTC (year 1
    at +01:00, year 9999 at -01:00), raises :class:`ValueError` and nothing else.

    >>> to_utc(datetime.fromisoformat("2026-01-01T09:00:00+09:00")).isoformat()
    '2026-01-01T00:00:00+00:00'
    >>> to_utc(datetime.fromisoformat("0001-01-01T00:00:00+01:00"))
    Traceback (most recent call last):
    ValueError: 0001-01-01T00:00:00+01:00 cannot be expressed in UTC (out of range)
    """
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (UTC recommended), e.g. 2026-01-01T09:00:00Z")
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise ValueError(f"{value.isoformat()} cannot be expressed in UTC (out of range)") from None


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 180 else f"{minutes // 1440} days" if minutes >= 2880 else f"{minutes // 60} hours"


def check_clock(value: datetime, now: datetime | None = None) -> datetime:
    """``value`` (UTC) if it lies between :data:`EARLIEST` and ``now`` + :data:`MAX_CLOCK_SKEW`.

    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> check_clock(t + timedelta(minutes=4), now=t) == t + timedelta(minutes=4)
    True
    >>> check_clock(t + timedelta(hours=1), now=t)
    Traceback (most recent call last):
    ValueError: 2026-01-01T01:00:00+00:00 is 60 minutes ahead of the receiver's clock (2026-01-01T00:00:00+00:00); at most 5 minutes are accepted: check the device's clock (NTP)
    """
    now = now or datetime.now(timezone.utc)
    if value < EARLIEST:
        raise ValueError(f"{value.isoformat()} is before {EARLIEST.year}: the device's clock is not set (NTP)")
    ahead = value - now
    if ahead > MAX_CLOCK_SKEW:
        raise ValueError(
            f"{value.isoformat()} is {_span(ahead)} ahead of the receiver's clock "
            f"({now.isoformat(timespec='seconds')}); at most {int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes "
            "are accepted: check the device's clock (NTP)"
        )
    return value


def _utc(value: datetime) -> datetime:
    return check_clock(to_utc(value))


Identifier = Annotated[str, AfterValidator(_identifier)]
EventType = Annotated[str, AfterValidator(_event_type)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Box(Strict):
    """One detected object in the evidence snapshot, in pixels of that snapshot."""

    xyxy: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in pixels")
    label: str = Field(max_length=64)
    score: float = Field(ge=0.0, le=1.0)
    track_id: int | None = None


class Evidence(Strict):
    """What the alert is based on: a snapshot reference (never inline pixels) and its boxes."""

    snapshot_ref: str | None = Field(default=None, max_length=512, description="URI or key of the stored snapshot")
    frame_size: tuple[int, int] | None = Field(default=None, description="width, height of the snapshot in pixels")
    boxes: list[Box] = Field(default_factory=list, max_length=1000)
    scores: dict[str, float] = Field(default_factory=dict)


class ModelRef(Strict):
    name: str = Field(max_length=128)
    version: str = Field(max_length=64)


class Explanation(Strict):
    """Why an event fired, in terms a reviewer can check."""

    rule: str = Field(max_length=128, description="rule identifier, e.g. 'occupancy_over_capacity'")
    summary: str = Field(default="", max_length=1000, description="one plain sentence for people")
    thresholds: dict[str, float] = Field(default_factory=dict)
    measured: dict[str, float] = Field(default_factory=dict)
    model: ModelRef | None = None


class Event(Strict):
    """Event envelope, contract v1."""

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: Literal["1.0"] = SCHEMA_VERSION
    type: EventType = Field(max_length=64)
    use_case: UseCase
    store_id: Identifier
    camera_id: Identifier
    occurred_at: UtcDatetime
    payload: dict[str, Any] = Field(default_factory=dict)
    evidence: Evidence | None = None
    explanation: Explanation | None = None
    severity: Severity = Severity.INFO
    review_required: bool = False

    @model_validator(mode="after")
    def _alerts_explain_themselves(self) -> Event:
        if self.review_required and self.explanation is None:
            raise ValueError("an event with review_required=true must carry an explanation")
        return self


def event_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the v1 envelope, with a stable ``$id``."""
    schema = Event.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://anshin.example/schemas/event/{SCHEMA_VERSION}.json"
    schema["title"] = "Anshin event envelope"
    return schema


def mqtt_topic(event: Event) -> str:
    """MQTT topic of an event: ``anshin/v1/{store}/{camera}/{type}``.

    >>> from datetime import datetime, timezone
    >>> mqtt_topic(Event(type="zone.occupancy", use_case="F", store_id="s1", camera_id="c1",
    ...                  occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    'anshin/v1/s1/c1/zone.occupancy'
    """
    return f"anshin/v1/{event.store_id}/{event.camera_id}/{event.type}"
