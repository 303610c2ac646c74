"""Restock decisions (pure) and back-room stock (J's ``insights_inventory``) that never goes negative.

A task is made for a gap when the units missing reach ``min_units`` and the back room holds at
least one unit; it takes ``min(units missing, on hand)`` units. Priority = units x sales per day, the
sales rate from J's POS lines of the last ``window_days`` when J has any for the SKU, else the config.

>>> decide(units_missing=6, min_units=2, on_hand=4.0)
Decision(units=4, reason='')
>>> decide(units_missing=1, min_units=2, on_hand=4.0).reason
'below_threshold'
>>> decide(units_missing=6, min_units=2, on_hand=0.0).reason
'no_backroom_stock'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.central.usecases.insights.tables import InventoryRow, TransactionLine


@dataclass(frozen=True)
class Decision:
    units: int  # 0: no task
    reason: str  # why no task ("" when there is one)


def decide(units_missing: int, min_units: int, on_hand: float) -> Decision:
    """Whether to make a task, and for how many units."""
    if units_missing < min_units:
        return Decision(0, "below_threshold")
    available = math.floor(max(on_hand, 0.0))
    if available < 1:
        return Decision(0, "no_backroom_stock")
    return Decision(min(units_missing, available), "")


def on_hand(session: Session, store_id: str, sku: str) -> float:
    """Units of ``sku`` in the back room (0 without a row)."""
    value = session.scalar(select(InventoryRow.on_hand).where(InventoryRow.store_id == store_id, InventoryRow.item == sku))
    return float(value or 0.0)


def take(session: Session, store_id: str, sku: str, units: int, now: datetime) -> bool:
    """Take ``units`` from the back room in one conditional UPDATE: it changes the row only while
    enough is on hand, so two tasks racing for the last units cannot drive the stock below zero."""
    if units <= 0:
        raise ValueError(f"units to take must be positive, got {units}")
    result = session.execute(
        update(InventoryRow)
        .where(InventoryRow.store_id == store_id, InventoryRow.item == sku, InventoryRow.on_hand >= units)
        .values(on_hand=InventoryRow.on_hand - units, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def put_back(session: Session, store_id: str, sku: str, units: int, now: datetime) -> None:
    """Return units of a cancelled task to the back room."""
    session.execute(update(InventoryRow).where(InventoryRow.store_id == store_id, InventoryRow.item == sku)
                    .values(on_hand=InventoryRow.on_hand + units, updated_at=now).execution_options(synchronize_session=False))


def set_stock(session: Session, store_id: str, sku: str, units: float, now: datetime) -> None:
    """Set the back-room count of a SKU (a stock count; refuses negative counts)."""
    if units < 0:
        raise ValueError(f"back-room stock cannot be negative (got {units} for {sku})")
    row = session.get(InventoryRow, (store_id, sku))
    if row is None:
        session.add(InventoryRow(store_id=store_id, item=sku, on_hand=float(units), on_order=0.0, updated_at=now))
    else:
        row.on_hand, row.updated_at = float(units), now


def sales_rate(session: Session, store_id: str, sku: str, fallback: float, window_days: int,
               now: datetime | None = None) -> tuple[float, str]:
    """Units sold a day: J's POS lines over the window when there are any for the SKU, else ``fallback``."""
    now = now or datetime.now(timezone.utc)
    sold = session.scalar(select(func.sum(TransactionLine.quantity)).where(
        TransactionLine.store_id == store_id, TransactionLine.item == sku,
        TransactionLine.at >= now - timedelta(days=window_days), TransactionLine.at <= now))
    if sold:
        return float(sold) / window_days, "insights"
    return fallback, "config"
