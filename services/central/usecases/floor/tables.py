"""Use case B's table: each store's floor plan, as validated from its YAML file (``anshin stores floor set``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.central.db.tables import Base
from services.central.db.types import JsonDoc, UtcDateTime


class FloorPlanRow(Base):
    """The floor plan of one store: the plan as JSON (see ``plan.FloorPlan``) and its digest."""

    __tablename__ = "floor_plans"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON: the audit entry names it
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
