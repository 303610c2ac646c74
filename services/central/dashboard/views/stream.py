"""``/ui/stream``: server-sent events that tell open pages something changed.

Every change that matters writes an audit entry (ingest, claim, decision), in the same
transaction, on whichever replica or ingest path handled it. So the stream watches one number,
the chain's head ``seq``, and reports new entries by kind:

* ``queue`` — review items were opened, claimed, released or decided;
* ``events`` — events were ingested (store views refresh).

Messages carry sequence numbers and action names only, never data; pages fetch what they show
through their own signed-in routes. Each connection ends after ``STREAM_MAX_S`` and the browser
reconnects (``retry``), sending ``Last-Event-ID`` so nothing in between is missed. That bound
also keeps a server shutdown from waiting on open streams for long.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.central.api.deps import DatabaseDep
from services.central.dashboard.access import Reader
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, EventRow, ReviewItem

router = APIRouter(include_in_schema=False)

POLL_S = 1.0
HEARTBEAT_S = 15.0
STREAM_MAX_S = 50.0
RETRY_MS = 1500
#: Most audit entries read to tell what changed between two sequence numbers.
CATCH_UP = 1000


def head_seq(db: Database) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def _item_stores(session: Session, item_ids: set[int]) -> dict[int, str]:
    if not item_ids:
        return {}
    return dict(session.execute(select(ReviewItem.id, ReviewItem.store_id).where(ReviewItem.id.in_(item_ids))).all())


def _event_stores(session: Session, event_ids: set[UUID]) -> set[str]:
    if not event_ids:
        return set()
    return set(session.scalars(select(EventRow.store_id).where(EventRow.event_id.in_(event_ids)).distinct()))


def _item_id(subject: str) -> int | None:
    prefix, _, number = subject.partition(":")
    return int(number) if prefix == "review_item" and number.isascii() and number.isdigit() and len(number) < 10 else None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not an id: {value!r}")
    return value


def _ids(values: Any, parse: Callable[[Any], Any]) -> set[Any]:
    found = set()
    for v in values if isinstance(values, list) else []:
        try:
            found.add(parse(v))
        except (TypeError, ValueError):
            continue
    return found


def kinds_between(db: Database, after: int, upto: int, store: str | None = None) -> list[str]:
    """Which kinds of change entries ``after < seq <= upto`` hold (``queue``, ``events``).

    Only the newest :data:`CATCH_UP` entries are read: a page that was away longer reloads its
    lists anyway, and ``Last-Event-ID: 0`` must not scan the whole chain. With ``store``, only
    changes of that store count (a store-bound viewer learns nothing of other stores).
    """
    after = max(after, upto - CATCH_UP)
    with db.read_session() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.details)
            .where(AuditEntry.seq > after, AuditEntry.seq <= upto)
        ).all()
        if store is None:
            items: dict[int, str] = {}
            unlabelled: set[str] = set()
        else:
            wanted: set[int] = set()
            events: set[UUID] = set()
            for action, subject, details in rows:
                d = details if isinstance(details, dict) else {}
                if action.startswith("review."):
                    wanted |= {i for i in [_item_id(subject)] if i is not None}
                elif action == "events.ingest":
                    wanted |= _ids(d.get("review_items"), _int)
                    if "stores" not in d:  # entries written before ingest named its stores
                        events |= _ids(d.get("stored"), lambda v: UUID(str(v)))
            items = _item_stores(session, wanted)
            unlabelled = _event_stores(session, events)
    kinds: set[str] = set()
    for action, subject, details in rows:
        d = details if isinstance(details, dict) else {}
        if action.startswith("review."):
            if store is None or items.get(_item_id(subject) or 0) == store:
                kinds.add("queue")
        elif action == "events.ingest":
            stores = d.get("stores") if "stores" in d else sorted(unlabelled)
            if store is None or (isinstance(stores, list) and store in stores):
                kinds.add("events")
            review_items = d.get("review_items")
            if review_items and (store is None or any(items.get(i) == store for i in _ids(review_items, _int))):
                kinds.add("queue")
    return sorted(kinds)


def last_seen(header: str | None) -> int | None:
    """The ``Last-Event-ID`` a reconnecting browser sent, if it is one of ours (ASCII digits).

    >>> last_seen("42"), last_seen("²"), last_seen("-1"), last_seen("9" * 40), last_seen(None)
    (42, None, None, None, None)
    """
    if header and header.isascii() and header.isdigit() and len(header) <= 18:
        return int(header)
    return None


def _message(seq: int, kinds: list[str]) -> str:
    data = json.dumps({"seq": seq, "kinds": kinds})
    return "".join(f"id: {seq}\nevent: {kind}\ndata: {data}\n\n" for kind in kinds) or f"id: {seq}\n\n"


async def _changes(db: Database, last_id: str | None, store: str | None = None) -> AsyncIterator[str]:
    seq = await run_in_threadpool(head_seq, db)
    yield f"retry: {RETRY_MS}\n\n"
    since = last_seen(last_id)  # anything else: start from now
    if since is not None and since < seq:  # changes while the browser reconnected
        kinds = await run_in_threadpool(kinds_between, db, since, seq, store)
        if kinds or store is None:
            yield _message(seq, kinds)
    started = last_sent = time.monotonic()
    while time.monotonic() - started < STREAM_MAX_S:
        await asyncio.sleep(POLL_S)  # a closed connection ends this generator at its next yield
        head = await run_in_threadpool(head_seq, db)
        if head != seq:
            kinds = await run_in_threadpool(kinds_between, db, seq, head, store)
            seq = head
            if kinds or store is None:  # a store-bound viewer hears nothing of other stores' changes
                yield _message(seq, kinds)
                last_sent = time.monotonic()
        if time.monotonic() - last_sent >= HEARTBEAT_S:
            yield ": keep-alive\n\n"  # proxies close silent connections
            last_sent = time.monotonic()


@router.get("/ui/stream")
def stream(request: Request, viewer: Reader, db: DatabaseDep) -> StreamingResponse:
    return StreamingResponse(
        _changes(db, request.headers.get("last-event-id"), viewer.store_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
