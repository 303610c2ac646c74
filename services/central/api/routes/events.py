"""``/api/v1/events``: ingest (one event or a batch) and reads."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BeforeValidator
from starlette.concurrency import run_in_threadpool

from services.central.api.body import read_limited_body
from services.central.api.deps import DatabaseDep, EventsReader, EventsWriter, ReadSession, SettingsDep, store_scope
from services.central.api.errors import unprocessable
from services.central.api.schemas.common import MAX_OFFSET, Page
from services.central.api.schemas.events import EventOut, IngestOut
from services.central.auth import Principal
from services.central.db.session import Database
from services.central.ingest import ingest
from services.central.ingest.parse import BodyNotJson, decode_json, parse_events
from services.central.metrics import observe_ingest
from services.central.reads.events import EventFilter, get_event, list_events
from services.central.settings import Settings
from services.contract import MAX_BATCH, Event, UseCase
from services.contract.events import to_utc

router = APIRouter(prefix="/api/v1/events", tags=["events"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": f"One event (contract v1, see docs/event.schema.json) or an array of 1-{MAX_BATCH}.",
        "content": {"application/json": {"schema": {"oneOf": [{"type": "object"}, {"type": "array",
                                                                                   "items": {"type": "object"}}]}}},
    }
}


def _check_store_binding(principal: Principal, events: list[Event], single: bool) -> None:
    if principal.store_id is None:
        return
    for i, e in enumerate(events):
        if e.store_id != principal.store_id:
            where = "body.store_id" if single else f"body[{i}].store_id"
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"API key {principal.name!r} is bound to store {principal.store_id!r}; "
                f"{where} is {e.store_id!r}. Nothing was stored.",
            )


def _store(db: Database, settings: Settings, principal: Principal, events: list[Event]) -> IngestOut:
    with db.unit_of_work() as session:  # commits before we answer: an ack means durable
        result = ingest(session, events, settings, actor=principal.name)
    observe_ingest("http", events, result.stored, datetime.now(timezone.utc))
    return IngestOut(stored=result.stored, duplicates=result.duplicates)


@router.post(
    "",
    response_model=IngestOut,
    openapi_extra=_BODY_DOC,
    responses={400: {"description": "not JSON"}, 403: {"description": "wrong store for a store-bound key"},
               413: {"description": "body over the limit"}, 422: {"description": "invalid event; loc names the field"}},
)
async def post_events(
    request: Request, principal: EventsWriter, db: DatabaseDep, settings: SettingsDep
) -> IngestOut | JSONResponse:
    """Store one event or a batch, all or nothing; duplicates (by ``event_id``) are acknowledged.

    The sender deletes every id in ``stored`` and ``duplicates`` from its outbox.
    """
    body = await read_limited_body(request, settings.max_body_bytes)
    try:
        # Decoding and validation are CPU work on up to 1 MiB: keep them off the event loop.
        doc = await run_in_threadpool(decode_json, body)
    except BodyNotJson as e:
        return JSONResponse({"detail": str(e)}, status_code=status.HTTP_400_BAD_REQUEST)
    events, errors = await run_in_threadpool(parse_events, doc)
    if errors:
        return unprocessable(errors)
    _check_store_binding(principal, events, single=isinstance(doc, dict))
    return await run_in_threadpool(_store, db, settings, principal, events)


def _iso_8601(value: object) -> object:
    # pydantic also reads bare numbers as Unix times; the documented format is ISO 8601 only, so a
    # stray number is a client error, not a silent 1970 filter.
    if isinstance(value, (int, float)) or (isinstance(value, str) and not _ISO_DATE.match(value)):
        raise ValueError("must be an ISO 8601 time such as 2026-11-01T09:00:00Z")
    return value


def _query_utc(value: datetime) -> datetime:
    # A time without a zone in a query string is taken as UTC; one that cannot be expressed in
    # UTC (year 1 at +01:00) is a 422 naming the parameter. No clock-skew bound here: asking
    # about the future is a legitimate (empty) query.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else to_utc(value)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoTime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_query_utc)]


@router.get("", response_model=Page[EventOut])
def read_events(
    session: ReadSession,
    principal: EventsReader,
    store_id: str | None = None,
    camera_id: str | None = None,
    event_type: Annotated[str | None, Query(alias="type", description="e.g. zone.occupancy")] = None,
    use_case: UseCase | None = None,
    since: Annotated[IsoTime | None, Query(description="occurred_at >= since (ISO 8601; UTC if no zone)")] = None,
    until: Annotated[IsoTime | None, Query(description="occurred_at < until")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[EventOut]:
    """Stored events, newest first."""
    f = EventFilter(
        store_id=store_scope(principal, store_id),
        camera_id=camera_id,
        type=event_type,
        use_case=use_case.value if use_case else None,
        since=since,
        until=until,
    )
    rows, total = list_events(session, f, limit, offset)
    return Page[EventOut](data=[EventOut.model_validate(r) for r in rows], count=total)


@router.get("/{event_id}", response_model=EventOut)
def read_event(event_id: UUID, session: ReadSession, principal: EventsReader) -> EventOut:
    row = get_event(session, event_id)
    if row is None or (principal.store_id is not None and row.store_id != principal.store_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    return EventOut.model_validate(row)
