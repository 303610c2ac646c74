"""Operations routes: ``/readyz``, ``/metrics``, edge status, ingest dead letters.

``/healthz`` (in ``health.py``) and ``/readyz`` are the only routes without authentication;
``/metrics`` needs a key with ``metrics:read`` (Prometheus: ``authorization: {credentials: ...}``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from services.central import edges, metrics
from services.central.api.deps import DatabaseDep, EventsReader, EventsWriter, ReadSession, require, store_scope
from services.central.api.schemas.common import Page
from services.central.api.schemas.ops import DeadLetterOut, EdgeStatusOut
from services.central.auth import Principal, Scope
from services.central.db.migrate import current_revision, head_revision
from services.central.db.tables import IngestDeadLetter
from services.contract import EdgeStatus

router = APIRouter(tags=["operations"])

MetricsReader = Annotated[Principal, Depends(require(Scope.METRICS_READ))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]


@router.get("/readyz", responses={503: {"description": "not ready: database unreachable or schema behind"}})
def readyz(db: DatabaseDep) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the latest migration (no auth)."""
    try:
        revision = current_revision(db.engine)
    except SQLAlchemyError as e:
        return JSONResponse({"status": "unavailable", "database": type(e).__name__}, status_code=503)
    head = head_revision()
    if revision != head:
        return JSONResponse({"status": "migrating", "revision": revision, "head": head}, status_code=503)
    return JSONResponse({"status": "ready", "revision": revision})


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics(db: DatabaseDep, _: MetricsReader) -> Response:
    """Prometheus text format: ingest rate and lag, dead letters, review backlog, per-edge outbox
    depth and inference latency, webhook deliveries."""
    try:
        with db.read_session() as session:
            body = metrics.render(session)
    except SQLAlchemyError:
        body = metrics.render(None)  # the process counters still tell what happened
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.post("/api/v1/edges/status", response_model=EdgeStatusOut, tags=["edges"])
def report_edge_status(report: EdgeStatus, db: DatabaseDep, principal: EventsWriter) -> EdgeStatusOut:
    """An edge worker's health report (the publishers send one every few seconds)."""
    store_scope(principal, report.store_id)
    now = datetime.now(timezone.utc)
    with db.unit_of_work() as session:
        edges.upsert(session, [report], now, actor=principal.name)  # audited when the edge's state changes
        rows = edges.list_status(session, report.store_id)
    row = next(r for r in rows if r.camera_id == report.camera_id)
    return EdgeStatusOut.model_validate(row)


@router.get("/api/v1/edges", response_model=Page[EdgeStatusOut], tags=["edges"])
def list_edges(session: ReadSession, principal: EventsReader, store_id: str | None = None) -> Page[EdgeStatusOut]:
    """Latest report of every edge (a store-bound key sees its own store)."""
    rows = edges.list_status(session, store_scope(principal, store_id))
    return Page[EdgeStatusOut](data=[EdgeStatusOut.model_validate(r) for r in rows], count=len(rows))


@router.get("/api/v1/ingest/dead-letters", response_model=Page[DeadLetterOut], tags=["ingest"])
def list_dead_letters(
    session: ReadSession,
    _: Admin,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[DeadLetterOut]:
    """Messages central could not ingest (newest first), with the reason; admin keys only."""
    cond = [IngestDeadLetter.reason == reason] if reason else []
    total = session.scalar(select(func.count()).select_from(IngestDeadLetter).where(*cond)) or 0
    rows = session.scalars(select(IngestDeadLetter).where(*cond)
                           .order_by(IngestDeadLetter.id.desc()).limit(limit).offset(offset))
    data = [
        DeadLetterOut(id=r.id, transport=r.transport, topic=r.topic, reason=r.reason, detail=r.detail,
                      payload=r.payload[:4096].decode("utf-8", "replace"), payload_bytes=len(r.payload),
                      received_at=r.received_at)
        for r in rows
    ]
    return Page[DeadLetterOut](data=data, count=total)
