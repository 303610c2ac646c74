"""Command contract v1: what central asks one device in a store to do, and what the device answers.

A :class:`Command` is addressed to one device (``store_id``, ``device_id``), names a dotted
lower-case ``action`` with bounded ``arguments``, and is only valid until ``expires_at``: a device
refuses a command that arrives late (status ``expired``) instead of acting on stale intent. It is
identified by a UUID (``command_id``) so a device executes it at most once however often it is
delivered; a redelivered command is answered with the stored result and status ``duplicate``.

The device answers with a :class:`CommandAck` when it takes the command (``accepted``) or turns
it away (``refused``, ``expired``, ``duplicate``), then a :class:`CommandResult` once it ran
(``succeeded`` or ``failed``).

MQTT: commands on ``anshin/v1/{store}/{device}/_cmd`` (QoS 1), results and acks on
``anshin/v1/{store}/{device}/_cmd_result`` (``_cmd`` levels can never be event types, which are
dotted lower-case words starting with a letter). HTTP: ``GET /api/v1/commands/poll`` and
``POST /api/v1/commands/{command_id}/result``.

>>> from datetime import datetime, timedelta, timezone
>>> at = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
>>> c = Command(store_id="tokyo-01", device_id="fan-1", action="ventilation.set_level",
...             arguments={"level": 3}, issued_by="hq", issued_at=at, expires_at=at + timedelta(minutes=5))
>>> command_topic(c.store_id, c.device_id), c.expired(at + timedelta(minutes=6))
('anshin/v1/tokyo-01/fan-1/_cmd', True)
>>> Command.model_validate_json(c.model_dump_json()) == c
True
>>> r = CommandResult(command_id=c.command_id, device_id="fan-1", status="succeeded", at=at)
>>> r.final, result_topic("tokyo-01", "fan-1")
(True, 'anshin/v1/tokyo-01/fan-1/_cmd_result')
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, Field, model_validator

from services.contract.events import Identifier, UtcDatetime, to_utc
from services.shared.strict import Strict

COMMAND_SCHEMA_VERSION = "1.0"
#: Topic levels of the two command channels (after ``anshin/v1/{store}/{device}/``).
COMMAND_TOPIC_LEVEL = "_cmd"
RESULT_TOPIC_LEVEL = "_cmd_result"
COMMAND_TOPIC_LEVELS = frozenset({COMMAND_TOPIC_LEVEL, RESULT_TOPIC_LEVEL})
#: Largest ``arguments`` object, as compact JSON: commands steer devices, they do not carry data.
MAX_ARGUMENTS_BYTES = 8192
MAX_DETAIL_CHARS = 2000

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain U+0000 (no database can store it in text)")
    return value


def _action(value: str) -> str:
    if not _ACTION.fullmatch(value):
        raise ValueError("must be dotted lower-case words such as 'ventilation.set_level'")
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _bounded_arguments(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())
    except ValueError as e:  # NaN or Infinity: not portable JSON
        raise ValueError(f"must be plain JSON ({e})") from None
    if _has_nul(value):
        raise ValueError("must not contain U+0000 (no database can store it in text)")
    if size > MAX_ARGUMENTS_BYTES:
        raise ValueError(f"{size} bytes as JSON; the limit is {MAX_ARGUMENTS_BYTES}")
    return value


Action = Annotated[str, Field(max_length=64), AfterValidator(_action)]
#: A deadline: UTC like every contract time, but naturally in the future (no clock-skew bound).
Deadline = Annotated[datetime, AfterValidator(to_utc)]
Arguments = Annotated[dict[str, Any], AfterValidator(_bounded_arguments)]


class CommandStatus(StrEnum):
    """What a device reports about a command."""

    ACCEPTED = "accepted"  # taken; it runs now (ack)
    REFUSED = "refused"  # not run: not for this device, unknown action, bad arguments (ack, final)
    SUCCEEDED = "succeeded"  # ran and did what was asked (result, final)
    FAILED = "failed"  # ran, or started, and did not finish (result, final)
    EXPIRED = "expired"  # arrived after expires_at; not run (ack, final)
    DUPLICATE = "duplicate"  # delivered again; not run again, ``original_status`` is the stored one


#: Statuses a device answers with before (or instead of) running a command.
ACK_STATUSES = frozenset({CommandStatus.ACCEPTED, CommandStatus.REFUSED, CommandStatus.EXPIRED,
                          CommandStatus.DUPLICATE})
#: Statuses after which nothing more happens to a command.
FINAL_STATUSES = frozenset({CommandStatus.REFUSED, CommandStatus.SUCCEEDED, CommandStatus.FAILED,
                            CommandStatus.EXPIRED})


class Command(Strict):
    """Command envelope, contract v1."""

    command_id: UUID = Field(default_factory=uuid4)
    schema_version: Literal["1.0"] = COMMAND_SCHEMA_VERSION
    store_id: Identifier
    device_id: Identifier
    action: Action
    arguments: Arguments = Field(default_factory=dict)
    issued_by: str = Field(min_length=1, max_length=128, description="API key name or user:<id>, never a person's name")
    issued_at: UtcDatetime
    expires_at: Deadline

    @model_validator(mode="after")
    def _expires_after_issue(self) -> Command:
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        return self

    def expired(self, now: datetime) -> bool:
        """True from ``expires_at`` on."""
        return now >= self.expires_at


class CommandResult(Strict):
    """A device's report on one command: an ack, or the outcome of running it."""

    command_id: UUID
    device_id: Identifier
    status: CommandStatus
    detail: Annotated[str | None, AfterValidator(_no_nul)] = Field(default=None, max_length=MAX_DETAIL_CHARS,
                               description="plain words for an operator; no personal data")
    original_status: CommandStatus | None = Field(
        default=None, description="status ``duplicate`` only: what the first delivery ended with")
    at: UtcDatetime

    @model_validator(mode="after")
    def _duplicate_names_the_original(self) -> CommandResult:
        if (self.status is CommandStatus.DUPLICATE) != (self.original_status is not None):
            raise ValueError("original_status is required with status 'duplicate' and only then")
        if self.original_status is CommandStatus.DUPLICATE:
            raise ValueError("original_status cannot be 'duplicate'")
        return self

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def effective_status(self) -> CommandStatus:
        """The status this report stands for: a duplicate's original, else its own."""
        return self.original_status or self.status


class CommandAck(CommandResult):
    """A report sent before (or instead of) running: ``accepted``, ``refused``, ``expired`` or ``duplicate``."""

    @model_validator(mode="after")
    def _ack_status(self) -> CommandAck:
        if self.status not in ACK_STATUSES:
            raise ValueError(f"an ack's status is one of {sorted(s.value for s in ACK_STATUSES)}")
        return self


def command_topic(store_id: str, device_id: str) -> str:
    """Where central publishes commands for one device (QoS 1)."""
    return f"anshin/v1/{store_id}/{device_id}/{COMMAND_TOPIC_LEVEL}"


def result_topic(store_id: str, device_id: str) -> str:
    """Where a device publishes its acks and results (QoS 1)."""
    return f"anshin/v1/{store_id}/{device_id}/{RESULT_TOPIC_LEVEL}"


def parse_command_channel(topic: str) -> tuple[str, str, str] | None:
    """``(store_id, device_id, level)`` of a ``_cmd``/``_cmd_result`` topic, else None.

    >>> parse_command_channel("anshin/v1/s1/fan-1/_cmd_result")
    ('s1', 'fan-1', '_cmd_result')
    >>> parse_command_channel("anshin/v1/s1/cam-1/zone.occupancy") is None
    True
    """
    parts = topic.split("/")
    if len(parts) != 5 or parts[:2] != ["anshin", "v1"] or parts[4] not in COMMAND_TOPIC_LEVELS:
        return None
    return parts[2], parts[3], parts[4]
