"""Wire shapes of ``/api/v1/commands``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from services.central.api.schemas.common import MAX_DB_INT, In, Out
from services.contract.commands import Action, Arguments, Command, CommandStatus
from services.contract.events import Identifier

#: Status filter values: ``pending`` (no report yet) or a device's status.
StatusName = Literal["pending", "accepted", "refused", "succeeded", "failed", "expired"]


class CommandIn(In):
    """A command to issue; central fills in id, issuer and times."""

    store_id: Identifier
    device_id: Identifier
    action: Action = Field(description="a registered action, e.g. test.echo")
    arguments: Arguments = Field(default_factory=dict)
    ttl_s: int | None = Field(default=None, ge=1, le=86_400,
                              description="seconds until the command expires; default ANSHIN_COMMANDS_DEFAULT_TTL_S")
    review_item_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT,
                                       description="the confirmed review item an action that requires review rests on")


class CommandResultOut(Out):
    status: CommandStatus
    device_id: str
    detail: str | None
    at: datetime
    transport: str
    received_at: datetime


class CommandOut(Out):
    command_id: UUID
    schema_version: str
    store_id: str
    device_id: str
    action: str
    arguments: dict[str, Any]
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    review_item_id: int | None
    status: str = Field(description="pending, then the device's latest status (accepted, then a final one)")
    published_at: datetime | None = Field(description="when the broker took it (MQTT); null: not published")
    updated_at: datetime


class CommandDetailOut(CommandOut):
    results: list[CommandResultOut] = Field(description="every ack and result the device sent, in order")


class PollOut(Out):
    """Commands a device should run (it answers each, and answers a repeat with ``duplicate``)."""

    data: list[Command]
    count: int


class RecordedOut(Out):
    stored: bool = Field(description="false: this report had been stored already")
    status: str = Field(description="the command's status at central now")
