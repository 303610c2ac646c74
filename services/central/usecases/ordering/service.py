"""Placing and reading kiosk orders. Idempotent by the page's order id, on SQLite and PostgreSQL.

A retried POST (the page lost the first answer) finds the row its first try wrote and answers
it again; two racing tries meet at the primary key, and the loser reads the winner's row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.central.db.session import Database
from services.central.db.tables import EventRow, StoreRow
from services.central.usecases.ordering.menu import MENU, total_yen
from services.central.usecases.ordering.schemas import OrderIn, OrderOut
from services.central.usecases.ordering.tables import OrderRow


class OrderRefused(ValueError):
    """The order cannot be taken as sent (unknown SKU or store); the message says why."""


class OrderConflict(ValueError):
    """The order id is already used by an order with other content."""


@dataclass(frozen=True)
class Placed:
    order: OrderOut
    created: bool  #: False: this id was already placed (a retry) and nothing new was written


def canonical_lines(order: OrderIn) -> list[tuple[str, int]]:
    """Lines merged per SKU and sorted, so a retry digests the same; unknown SKUs refused.

    >>> from uuid import UUID
    >>> o = OrderIn(order_id=UUID(int=1), lines=[{"sku": "tea", "qty": 1}])
    >>> canonical_lines(o)
    Traceback (most recent call last):
    ...
    services.central.usecases.ordering.service.OrderRefused: unknown menu item 'tea'
    """
    merged: dict[str, int] = {}
    for line in order.lines:
        if line.sku not in MENU:
            raise OrderRefused(f"unknown menu item {line.sku!r}")
        merged[line.sku] = merged.get(line.sku, 0) + line.qty
    if any(q > 20 for q in merged.values()):
        raise OrderRefused("at most 20 of one item per order")
    return sorted(merged.items())


def _digest(store_id: str, order: OrderIn, lines: list[tuple[str, int]]) -> str:
    body = {"store": store_id, "kiosk": order.kiosk_id, "source": order.source, "lines": lines}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def store_known(session: Session, store_id: str) -> bool:
    """A registered store, or one central has events from."""
    return session.get(StoreRow, store_id) is not None or bool(
        session.scalar(select(exists().where(EventRow.store_id == store_id))))


def out(row: OrderRow) -> OrderOut:
    return OrderOut(order_id=row.order_id, number=row.order_id[:8].upper(), store_id=row.store_id, kiosk_id=row.kiosk_id,
                    source=row.source, lines=[(str(s), int(q)) for s, q in row.lines], total_yen=row.total_yen,
                    created_at=row.created_at)


def _existing(db: Database, order_id: str, digest: str) -> Placed:
    with db.read_session() as session:
        row = session.get(OrderRow, order_id)
        if row is None:  # the insert failed for another reason than the id
            raise RuntimeError(f"order {order_id} could not be stored")
        if row.digest != digest:
            raise OrderConflict(f"order id {order_id} was already used for a different order")
        return Placed(out(row), created=False)


def place_order(db: Database, store_id: str, order: OrderIn, now: datetime | None = None) -> Placed:
    """Store ``order`` once; the same id again answers the stored order (``created=False``)."""
    lines = canonical_lines(order)
    order_id = str(order.order_id)
    digest = _digest(store_id, order, lines)
    with db.read_session() as session:
        if not store_known(session, store_id):
            raise OrderRefused(f"unknown store {store_id!r}")
        if session.get(OrderRow, order_id) is not None:
            return _existing(db, order_id, digest)
    row = OrderRow(order_id=order_id, store_id=store_id, kiosk_id=order.kiosk_id, source=order.source,
                   lines=[list(x) for x in lines], total_yen=total_yen(lines), digest=digest,
                   created_at=now or datetime.now(timezone.utc))
    try:
        with db.unit_of_work() as session:
            session.add(row)
            session.flush()
            placed = Placed(out(row), created=True)
    except IntegrityError:
        return _existing(db, order_id, digest)  # a concurrent retry won the insert
    return placed


def recent_orders(session: Session, store_ids: list[str] | None, limit: int = 100) -> list[OrderOut]:
    """Newest first; ``store_ids=None``: every store."""
    query = select(OrderRow).order_by(OrderRow.created_at.desc(), OrderRow.order_id).limit(limit)
    if store_ids is not None:
        query = query.where(OrderRow.store_id.in_(store_ids))
    return [out(r) for r in session.scalars(query)]
