"""``/api/v1/stores/{store_id}/orders``: a store's recent kiosk orders, for integrators (POS, kitchen screens).

Scope ``events:read``; a store-bound key reads only its store. The kiosk page places orders through
``POST /kiosk/{store_id}/orders`` (no key; see ``views``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.usecases.ordering.schemas import OrderOut
from services.central.usecases.ordering.service import recent_orders

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


@router.get("/{store_id}/orders", response_model=list[OrderOut])
def store_orders(store_id: str, session: ReadSession, principal: EventsReader,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[OrderOut]:
    """The store's kiosk orders, newest first."""
    store_scope(principal, store_id)
    return recent_orders(session, [store_id], limit)
