"""Use case D's table: kiosk orders, keyed by the id the kiosk chose (a retried POST finds its order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.central.db.tables import Base
from services.central.db.types import JsonDoc, UtcDateTime


class OrderRow(Base):
    """One order from a kiosk or a phone. ``digest`` is the SHA-256 of its canonical content:
    the same id sent again with other content is refused, not merged."""

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID made by the page
    store_id: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # airtouch | touch | phone
    lines: Mapped[list[Any]] = mapped_column(JsonDoc)  # [[sku, qty], ...]
    total_yen: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_orders_store_created", "store_id", "created_at"),)
