"""Use case I's tables: restock tasks (one per gap and SKU, done by a robot or by staff) and the
robots central has heard of (their last VDA 5050 state). Back-room stock is J's ``insights_inventory``
(:class:`services.central.usecases.insights.tables.InventoryRow`): tasks take units from it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.central.db.tables import Base
from services.central.db.types import UtcDateTime


class RestockTask(Base):
    """One restock task: a gap seen on camera, the units taken from the back room, who refills it."""

    __tablename__ = "shelf_tasks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    gap_event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)  # the shelf.gap that raised it
    units: Mapped[int] = mapped_column(Integer)  # units taken from the back room for it
    priority: Mapped[float] = mapped_column(Float)  # units missing x sales per day
    sales_rate: Mapped[float] = mapped_column(Float)
    sales_source: Mapped[str] = mapped_column(String(16))  # "insights" (J's sales) or "config"
    assignee: Mapped[str] = mapped_column(String(8))  # "robot" or "staff"
    robot: Mapped[str | None] = mapped_column(String(64), nullable=True)  # VDA 5050 serial number
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    order_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # see vda5050.orders.OrderStatus
    fallback_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # why staff, not a robot
    state: Mapped[str] = mapped_column(String(16))  # open, done, escalated (still open), cancelled
    done_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # camera or staff
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    gap_at: Mapped[datetime] = mapped_column(UtcDateTime)  # when the camera saw the gap
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    refill_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # gap seen -> gap gone (or confirmed)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{at, what}] for the page

    __table_args__ = (Index("ix_shelf_tasks_store_state", "store_id", "state"),)


class Robot(Base):
    """A VDA 5050 vehicle central has heard of: its connection and last state message."""

    __tablename__ = "shelf_robots"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64))
    manufacturer: Mapped[str] = mapped_column(String(64))
    connection: Mapped[str] = mapped_column(String(16))  # ONLINE, OFFLINE, CONNECTIONBROKEN
    battery: Mapped[float | None] = mapped_column(Float, nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    last_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
