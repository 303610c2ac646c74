"""``/api/v1/insights``: a live POS sends its transactions; integrators read the latest report.

``POST /api/v1/insights/{store_id}/transactions`` (scope ``events:write``; a store-bound key only
for its store) takes up to 2,000 lines; all are checked first (422 naming the line, nothing
stored), then stored by natural key: a resent batch changes nothing (``inserted`` says how many
were new). ``GET /api/v1/insights/{store_id}/report`` (``events:read``) answers the latest report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import Field

from services.central.api.deps import DatabaseDep, EventsReader, EventsWriter, ReadSession, store_scope
from services.central.usecases.insights.importing import LineIn, store
from services.central.usecases.insights.service import latest_report
from services.contract.events import UtcDatetime
from services.shared.strict import Strict

router = APIRouter(prefix="/api/v1/insights", tags=["insights"])


class PosLineIn(Strict):
    """One item of one sale at the till (no customer identity)."""

    transaction_id: str = Field(min_length=1, max_length=128)
    item: str = Field(min_length=1, max_length=128)
    at: UtcDatetime
    quantity: Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)] = 1.0


class PosBatchIn(Strict):
    lines: list[PosLineIn] = Field(min_length=1, max_length=2000)


class PosBatchOut(Strict):
    received: int
    inserted: int
    already_present: int


@router.post("/{store_id}/transactions", response_model=PosBatchOut)
def post_transactions(store_id: str, body: PosBatchIn, db: DatabaseDep, principal: EventsWriter) -> PosBatchOut:
    """Store a live POS batch idempotently (by store, transaction id and item)."""
    store_scope(principal, store_id)
    merged: dict[tuple[str, str], LineIn] = {}
    for line in body.lines:  # an item twice in one transaction: quantities add up, as in the CSV import
        prev = merged.get((line.transaction_id, line.item))
        merged[(line.transaction_id, line.item)] = LineIn(
            store_id, line.transaction_id, line.item, prev.at if prev else line.at,
            line.quantity + (prev.quantity if prev else 0.0))
    rows = list(merged.values())
    key = "pos:" + _digest(rows)
    with db.unit_of_work() as session:
        result = store(session, rows, "transactions", key[:64], "pos-api", principal.name, store_id)
    return PosBatchOut(received=len(body.lines), inserted=result.inserted, already_present=result.already_present)


def _digest(rows: list[LineIn]) -> str:
    import hashlib

    h = hashlib.sha256()
    for r in sorted(rows, key=lambda r: (r.transaction_id, r.item)):
        h.update(f"{r.store_id}\x1f{r.transaction_id}\x1f{r.item}\x1f{r.at.isoformat()}\x1f{r.quantity!r}\x1e".encode())
    return h.hexdigest()


@router.get("/{store_id}/report")
def get_report(store_id: str, session: ReadSession, principal: EventsReader) -> dict[str, Any]:
    """The store's latest computed report (forecasts, order lines, rules, conversion, staffing)."""
    store_scope(principal, store_id)
    report = latest_report(session, store_id)
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no insights report for store {store_id!r} yet")
    computed: datetime = report.computed_at
    return {"id": report.id, "computed_at": computed.isoformat(), **report.content}
