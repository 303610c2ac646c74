"""``/api/v1/commands``: issue commands to store devices and follow them; the HTTP channel of devices.

* ``POST /api/v1/commands`` (``commands:write``; a store-bound key only for its store): store the
  command, audit it, publish it on MQTT when central has a broker (``ANSHIN_COMMANDS_MQTT_URL``).
* ``GET /api/v1/commands`` and ``GET /api/v1/commands/{command_id}`` (``commands:write``).
* ``GET /api/v1/commands/poll`` (``commands:device`` or ``events:write``): a device's long-poll,
  for stores without a broker; answers at once when commands wait, else within ``wait_s``.
* ``POST /api/v1/commands/{command_id}/result`` (the same scopes): a device's ack or result.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from services.central.api.deps import DatabaseDep, ReadSession, get_principal, require, store_scope
from services.central.api.errors import field_error, unprocessable
from services.central.api.schemas.common import MAX_OFFSET, Page
from services.central.auth import Principal, Scope
from services.central.commands import service
from services.central.commands.mqtt import publish_and_mark
from services.central.commands.schemas import (
    CommandDetailOut,
    CommandIn,
    CommandOut,
    CommandResultOut,
    PollOut,
    RecordedOut,
    StatusName,
)
from services.central.commands.settings import CommandSettings
from services.central.db.session import Database
from services.contract.commands import Command, CommandResult
from services.contract.events import Identifier

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])
CommandsWriter = Annotated[Principal, Depends(require(Scope.COMMANDS_WRITE))]


def command_settings(request: Request) -> CommandSettings:
    """The app's command settings: ``app.state.command_settings`` if set, else from the environment."""
    settings = getattr(request.app.state, "command_settings", None)
    if settings is None:
        settings = request.app.state.command_settings = CommandSettings()
    return settings  # type: ignore[no-any-return]


def device_principal(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """A device: scope ``commands:device``, or an edge key with ``events:write``."""
    if not (principal.allows(Scope.COMMANDS_DEVICE) or principal.allows(Scope.EVENTS_WRITE)):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"API key {principal.name!r} lacks scope 'commands:device' (or 'events:write')")
    return principal


CommandSettingsDep = Annotated[CommandSettings, Depends(command_settings)]
Device = Annotated[Principal, Depends(device_principal)]
_NOT_FOUND = {404: {"description": "no such command (or not this key's store)"}}


def _refused(exc: service.CommandRefused) -> JSONResponse:
    if exc.conflict:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)
    return unprocessable([field_error(["body", exc.field], str(exc), "value_error")])


@router.post("", response_model=CommandOut, status_code=201, responses={
    409: {"description": "the action needs a confirmed review item and the one named is not confirmed"},
    422: {"description": "unknown action, bad arguments, ttl over the action's limit, missing or foreign review item"},
})
def issue_command(body: CommandIn, db: DatabaseDep, principal: CommandsWriter,
                  settings: CommandSettingsDep) -> CommandOut | JSONResponse:
    """Issue one command; it is published on MQTT at once when central has a broker."""
    store = store_scope(principal, body.store_id)
    assert store is not None  # body.store_id is required
    now = datetime.now(timezone.utc)
    try:
        with db.unit_of_work() as session:
            row = service.issue(session, store_id=store, device_id=body.device_id, action=body.action,
                                arguments=body.arguments, ttl_s=body.ttl_s or settings.default_ttl_s,
                                review_item_id=body.review_item_id, issued_by=principal.name, now=now)
            command = service.to_contract(row)
    except service.CommandRefused as exc:
        return _refused(exc)
    publish_and_mark(db, settings, [command])  # a broker that is away: the listener republishes it later
    with db.read_session() as session:
        return CommandOut.model_validate(service.get(session, command.command_id))


@router.get("", response_model=Page[CommandOut])
def list_commands(
    session: ReadSession,
    principal: CommandsWriter,
    store_id: Annotated[Identifier | None, Query()] = None,
    device_id: Annotated[Identifier | None, Query()] = None,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[CommandOut]:
    """Commands, newest first (a store-bound key sees its store only)."""
    rows, total = service.listing(session, store_id=store_scope(principal, store_id), device_id=device_id,
                                  status=status_, limit=limit, offset=offset)
    return Page[CommandOut](data=[CommandOut.model_validate(r) for r in rows], count=total)


def _deliverable(db: Database, store: str, device: str) -> list[Command]:
    with db.read_session() as session:
        return [service.to_contract(r) for r in service.deliverable(session, store, device, datetime.now(timezone.utc))]


@router.get("/poll", response_model=PollOut)
async def poll_commands(
    db: DatabaseDep,
    principal: Device,
    settings: CommandSettingsDep,
    store_id: Annotated[Identifier, Query()],
    device_id: Annotated[Identifier, Query()],
    wait_s: Annotated[float, Query(ge=0, le=120, description="wait this long for a command (capped by the server)")] = 20.0,
) -> PollOut:
    """Unfinished, unexpired commands of one device, oldest first; waits up to ``wait_s`` for one."""
    store = store_scope(principal, store_id)
    assert store is not None
    deadline = time.monotonic() + min(wait_s, settings.poll_max_wait_s)
    while True:
        commands = await run_in_threadpool(_deliverable, db, store, device_id)
        if commands or time.monotonic() >= deadline:
            return PollOut(data=commands, count=len(commands))
        await asyncio.sleep(min(settings.poll_interval_s, max(0.0, deadline - time.monotonic())))


@router.get("/{command_id}", response_model=CommandDetailOut, responses=_NOT_FOUND)
def get_command(command_id: UUID, session: ReadSession, principal: CommandsWriter) -> CommandDetailOut:
    try:
        row = service.get(session, command_id, principal.store_id)
    except service.CommandNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    results = [CommandResultOut.model_validate(r) for r in service.results_of(session, command_id)]
    return CommandDetailOut(**CommandOut.model_validate(row).model_dump(), results=results)


@router.post("/{command_id}/result", response_model=RecordedOut, responses=_NOT_FOUND | {
    422: {"description": "the body's command_id or device_id does not match the command"},
})
def report_result(command_id: UUID, body: CommandResult, db: DatabaseDep, principal: Device) -> RecordedOut | JSONResponse:
    """A device's ack or result; a repeat of a stored report is answered ``stored: false``."""
    if body.command_id != command_id:
        return unprocessable([field_error(["body", "command_id"], f"does not match the path ({command_id})", "value_error")])
    try:
        with db.unit_of_work() as session:
            recorded = service.record_result(session, body, reporter=principal.name, transport="http",
                                             now=datetime.now(timezone.utc), store_id=principal.store_id)
    except service.CommandNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except service.CommandRefused as exc:
        return _refused(exc)
    return RecordedOut(stored=recorded.stored, status=recorded.status)
