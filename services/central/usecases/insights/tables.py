"""Use case J's tables: sales per period, POS transaction lines, the item catalogue, back-room
inventory, imported files and purchase proposals. Natural keys are unique, so an import that
repeats a row adds nothing (``importing.store``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.central.db.tables import Base
from services.central.db.types import UtcDateTime


class SalesRow(Base):
    """Sales of one series (an item, or ``total``) of one store in one period (a day or a week)."""

    __tablename__ = "insights_sales"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64))
    series: Mapped[str] = mapped_column(String(128))
    period: Mapped[date] = mapped_column(Date)  # the period's date as the file gives it (Walmart: week-ending Friday)
    value: Mapped[float] = mapped_column(Float)
    # Numeric side information of the period (holiday flag, temperature, ...), as imported.
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (UniqueConstraint("store_id", "series", "period", name="uq_insights_sales_key"),)


class TransactionLine(Base):
    """One item of one POS transaction (a basket): how many, when. No customer identity."""

    __tablename__ = "insights_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str] = mapped_column(String(128))
    item: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    quantity: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("store_id", "transaction_id", "item", name="uq_insights_transactions_key"),
        Index("ix_insights_transactions_store_at", "store_id", "at"),
    )


class CatalogueItem(Base):
    """What purchasing needs to know about an item: cost, pack size, supplier lead time."""

    __tablename__ = "insights_catalogue"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(128), primary_key=True)
    unit_cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=1)


class InventoryRow(Base):
    """Back-room stock of an item: on hand, and ordered but not yet received (approved proposals)."""

    __tablename__ = "insights_inventory"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(128), primary_key=True)
    on_hand: Mapped[float] = mapped_column(Float, default=0.0)
    on_order: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ImportRecord(Base):
    """One import: ``sha256`` over the file's bytes, its mapping and store (``importing.import_key``);
    importing the same file the same way again changes nothing."""

    __tablename__ = "insights_imports"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_name: Mapped[str] = mapped_column(String(256))
    rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PurchaseProposal(Base):
    """A list of order lines awaiting staff approval (its review item's event), then sent."""

    __tablename__ = "insights_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    service_level: Mapped[float] = mapped_column(Float)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class InsightsReport(Base):
    """A computed weekly report of a store (forecasts, proposal lines, rules, conversion), kept as
    JSON so pages and PDF exports read it without refitting any model."""

    __tablename__ = "insights_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
