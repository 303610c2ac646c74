"""Wire shapes of kiosk orders."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.shared.strict import Strict

Source = Literal["airtouch", "touch", "phone"]


class OrderLineIn(Strict):
    sku: str = Field(min_length=1, max_length=32)
    qty: int = Field(ge=1, le=20)


class OrderIn(Strict):
    """An order as the kiosk page sends it. ``order_id`` is made once per order by the page and
    sent again on every retry: the same id never makes a second order."""

    order_id: UUID
    kiosk_id: str = Field("kiosk", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    source: Source = "touch"
    lines: list[OrderLineIn] = Field(min_length=1, max_length=20)


class OrderOut(BaseModel):
    order_id: str
    number: str = Field(description="short number shown to the customer and the staff")
    store_id: str
    kiosk_id: str
    source: str
    lines: list[tuple[str, int]]
    total_yen: int
    created_at: datetime
