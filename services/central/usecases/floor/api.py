"""``/api/v1/stores/{store_id}/route`` and ``/floor``: use case B's routes and live density, for integrators.

Scope ``events:read``; a store-bound key reads only its store. Signage and phones use the
customer page instead (``/floor-guide/{store_id}``, no key, rate-limited).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from services.central.api.deps import EventsReader, ReadSession, store_scope
from services.central.usecases.floor.routing import UnknownNode
from services.central.usecases.floor.schemas import FloorOut, RouteOut
from services.central.usecases.floor.service import density_out, floor_state, route_out

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


def _state(session: ReadSession, store_id: str):  # noqa: ANN202 - FloorState
    state = floor_state(session, store_id)
    if state is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"store {store_id!r} has no floor plan; load one with `anshin stores floor set`")
    return state


@router.get("/{store_id}/route", response_model=RouteOut, response_model_by_alias=True)
def store_route(
    store_id: str,
    session: ReadSession,
    principal: EventsReader,
    start: Annotated[str, Query(alias="from", max_length=64, description="start node")],
    end: Annotated[str, Query(alias="to", max_length=64, description="destination node")],
    via: Annotated[list[str], Query(max_length=20, description="nodes to pass, in order (repeat: via=a&via=b)")] = [],  # noqa: B006
    lam: Annotated[float | None, Query(alias="lambda", ge=0, le=1000,
                                       description="override the plan's λ (metres per person-second)")] = None,
) -> RouteOut:
    """Least-exposure route and the shortest route between two nodes, from live density.

    Exposure: expected person-seconds within ``radius_m`` of other people at the plan's walking
    speed. With empty or stale density the suggestion is the shortest path (``fallback`` says why).
    """
    store_scope(principal, store_id)
    state = _state(session, store_id)
    try:
        return route_out(state, start, end, via, lam)
    except UnknownNode as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/{store_id}/floor", response_model=FloorOut)
def store_floor(store_id: str, session: ReadSession, principal: EventsReader) -> FloorOut:
    """The store's walkable graph and its live density per cell and zone (people/m²)."""
    store_scope(principal, store_id)
    state = _state(session, store_id)
    plan = state.plan
    return FloorOut(store_id=store_id, size_m=list(plan.size_m), nodes={n: list(v.at) for n, v in plan.nodes.items()},
                    edges=[list(e) for e in plan.edges], density=density_out(state))
