"""Use case B's reads: a store's plan with its live density, routes on it, and the map to draw.

Routes are computed per request from the density of the newest window, so they follow density
as it changes; nothing is cached between requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from services.central.usecases.floor.density import DensityMap, density_map
from services.central.usecases.floor.plan import FloorPlan
from services.central.usecases.floor.routing import Path, Route, Router
from services.central.usecases.floor.schemas import DensityOut, PathOut, RouteOut, ZoneDensityOut
from services.central.usecases.floor.store import get_plan, recent_reports


@dataclass(frozen=True, slots=True)
class FloorState:
    """A store's plan and its density now."""

    plan: FloorPlan
    density: DensityMap


def floor_state(session: Session, store_id: str, now: datetime | None = None) -> FloorState | None:
    """The store's plan and live density, or None when the store has no floor plan."""
    plan = get_plan(session, store_id)
    if plan is None:
        return None
    now = now or datetime.now(timezone.utc)
    return FloorState(plan, density_map(recent_reports(session, store_id, plan, now), plan, now))


def density_out(state: FloorState) -> DensityOut:
    d = state.density
    zones = [ZoneDensityOut(zone=a.id, people_per_m2=round(d.zone_density(a), 4), area_m2=round(a.area_m2, 2))
             for a in state.plan.zones()]
    return DensityOut(status=d.status, as_of=d.as_of, people=d.people, slots=d.slots, cameras=list(d.cameras),
                      window_s=state.plan.routing.window_s, cell_m=d.cell_m,
                      cells=[[round(float(v), 4) for v in row] for row in d.density], zones=zones)


def _path_out(path: Path) -> PathOut:
    return PathOut(nodes=list(path.nodes), polyline=[list(p) for p in path.polyline], length_m=path.length_m,
                   exposure_person_s=path.exposure_person_s)


NOTES = {
    None: "least-exposure path from live density",
    "no_density": "no density received yet: the suggestion is the shortest path",
    "stale": "density is stale (no recent report): the suggestion is the shortest path",
    "over_length": "the least-exposure path was longer than max_overhead allows: the cheapest path within it (or the shortest)",
}


def route_out(state: FloorState, start: str, end: str, via: Sequence[str] = (), lam: float | None = None) -> RouteOut:
    """Suggested and shortest route (raises ``routing.UnknownNode``)."""
    router = Router(state.plan, state.density, lam)
    route: Route = router.route(start, end, via)
    sug, sho = route.suggested, route.shortest
    reduction = None
    if sug.exposure_person_s is not None and sho.exposure_person_s:
        reduction = round(1.0 - sug.exposure_person_s / sho.exposure_person_s, 4)
    r = state.plan.routing
    return RouteOut(
        store_id=state.plan.store_id, from_node=start, to_node=end, via=list(via),
        suggested=_path_out(sug), shortest=_path_out(sho),
        length_overhead=round(sug.length_m / sho.length_m - 1.0, 4) if sho.length_m else 0.0,
        exposure_reduction=reduction, fallback=route.fallback, note=NOTES[route.fallback],
        density=density_out(state).model_copy(update={"cells": None, "zones": None}),
        lambda_m_per_person_s=router.lam, walking_speed_m_s=r.walking_speed_m_s, radius_m=r.radius_m,
    )


def plan_summary(plan: FloorPlan) -> dict[str, Any]:
    """What a page needs to offer endpoints: nodes that are places (not plain aisle crossings) first."""
    places = [n for n, node in plan.nodes.items() if node.kind != "aisle"]
    return {"places": places, "nodes": list(plan.nodes)}
