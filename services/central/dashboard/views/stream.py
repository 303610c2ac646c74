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
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from services.central.api.deps import DatabaseDep
from services.central.dashboard.access import Reader
from services.central.db.session import Database
from services.central.db.tables import AuditEntry

router = APIRouter(include_in_schema=False)

POLL_S = 1.0
HEARTBEAT_S = 15.0
STREAM_MAX_S = 50.0
RETRY_MS = 1500


def head_seq(db: Database) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def kinds_between(db: Database, after: int, upto: int) -> list[str]:
    """Which kinds of change entries ``after < seq <= upto`` hold (``queue``, ``events``)."""
    with db.read_session() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.details).where(AuditEntry.seq > after, AuditEntry.seq <= upto)
        ).all()
    kinds: set[str] = set()
    for action, details in rows:
        if action.startswith("review."):
            kinds.add("queue")
        elif action == "events.ingest":
            kinds.add("events")
            if (details or {}).get("review_items"):
                kinds.add("queue")
    return sorted(kinds)


def _message(seq: int, kinds: list[str]) -> str:
    data = json.dumps({"seq": seq, "kinds": kinds})
    return "".join(f"id: {seq}\nevent: {kind}\ndata: {data}\n\n" for kind in kinds) or f"id: {seq}\n\n"


async def _changes(db: Database, last_id: str | None) -> AsyncIterator[str]:
    seq = await run_in_threadpool(head_seq, db)
    yield f"retry: {RETRY_MS}\n\n"
    if last_id and last_id.isdigit() and int(last_id) < seq:  # changes while the browser reconnected
        yield _message(seq, await run_in_threadpool(kinds_between, db, int(last_id), seq))
    started = last_sent = time.monotonic()
    while time.monotonic() - started < STREAM_MAX_S:
        await asyncio.sleep(POLL_S)  # a closed connection ends this generator at its next yield
        head = await run_in_threadpool(head_seq, db)
        if head != seq:
            kinds = await run_in_threadpool(kinds_between, db, seq, head)
            seq = head
            yield _message(seq, kinds)
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent >= HEARTBEAT_S:
            yield ": keep-alive\n\n"  # proxies close silent connections
            last_sent = time.monotonic()


@router.get("/ui/stream")
def stream(request: Request, _: Reader, db: DatabaseDep) -> StreamingResponse:
    return StreamingResponse(
        _changes(db, request.headers.get("last-event-id")),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
