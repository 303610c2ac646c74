"""Use case B's pages: the staff floor page per store and the customer route page.

* ``/floors`` and ``/stores/{id}/floor`` (signed in): live heatmap over the floor plan, density per
  zone, a route preview, and the store's comfort readings, which the page's script fetches from
  ``GET /api/v1/stores/{id}/comfort`` (no readings, or no such API: it says so).
* ``/floor-guide/{id}`` (no sign-in, one store): the floor map in live crowding colours, the
  suggested route between two places and a QR code that opens the same route on a phone; for
  signage and phones, in Japanese and English (``?lang=ja|en``). Rate-limited per client address
  on top of the app's limit, since anyone may call it.

The map refreshes itself (htmx, every few seconds) from the ``/map`` fragment of each page.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path as FilePath
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from services.central.dashboard.i18n import Translator
from services.central.dashboard.web import SECURITY_HEADERS, PublicUi, SignedInUi, Ui
from services.central.ratelimit import TokenBuckets, caller_key
from services.central.stores import get_profile
from services.central.usecases.floor.render import map_view, node_label
from services.central.usecases.floor.routing import UnknownNode
from services.central.usecases.floor.service import FloorState, density_out, floor_state, route_out
from services.central.usecases.floor.store import stores_with_plans

router = APIRouter(include_in_schema=False)

ASSETS = FilePath(__file__).parent / "assets"
#: Customer page: requests per second and burst per client address (a phone refreshes every 10 s).
PUBLIC_RATE_PER_S, PUBLIC_BURST = 1.0, 20
_public_buckets = TokenBuckets(PUBLIC_RATE_PER_S, PUBLIC_BURST)

Node = Annotated[str | None, Query(max_length=64)]


def _endpoints(state: FloorState, start: str | None, end: str | None) -> tuple[str, str]:
    """The requested places, else the plan's default route, else its first entrance and first checkout (or last place)."""
    nodes = state.plan.nodes
    if state.plan.default_route:
        return start or state.plan.default_route[0], end or state.plan.default_route[1]
    places = [n for n, v in nodes.items() if v.kind != "aisle"] or list(nodes)
    default_start = next((n for n in places if nodes[n].kind == "entrance"), places[0])
    default_end = next((n for n in places if nodes[n].kind == "checkout"), places[-1])
    return start or default_start, end or default_end


def _context(ui: Ui, state: FloorState, start: str | None, end: str | None) -> dict[str, Any]:
    start, end = _endpoints(state, start, end)
    route = route_out(state, start, end)  # UnknownNode for a bad endpoint: callers answer 404
    plan = state.plan
    places = [(n, node_label(plan, n, ui.t.locale)) for n, v in plan.nodes.items() if v.kind != "aisle"]
    density = density_out(state)
    zones = [(z.zone, _zone_label(state, z.zone, ui.t.locale), z.people_per_m2) for z in density.zones or []]
    return {"plan": plan, "map": map_view(plan, state.density, route, ui.t.locale), "route": route,
            "density": density, "zones": zones, "places": places, "start": start, "end": end,
            "start_label": node_label(plan, start, ui.t.locale), "end_label": node_label(plan, end, ui.t.locale)}


def _zone_label(state: FloorState, zone: str, locale: str) -> str:
    area = next(a for a in state.plan.areas if a.id == zone)
    return zone if area.label is None else (area.label.ja if locale == "ja" else area.label.en)


# ---------------------------------------------------------------------------------------------- staff


@router.get("/floors")
def floors_page(ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    with ui.db.read_session() as session:
        ids = [s for s in stores_with_plans(session) if ui.viewer.store_id in (None, s)]
        stores = [get_profile(session, s, ui.settings) for s in ids]
    return ui.page("floors.html", stores=stores)


def _plan_and_route(ui: Ui, store_id: str, start: str | None, end: str | None) -> Response | tuple[Any, dict[str, Any]]:
    """The store's profile and the page context of its route, or the 404 page (no plan, unknown place)."""
    with ui.db.read_session() as session:
        state = floor_state(session, store_id)
        profile = get_profile(session, store_id, ui.settings)
    if state is None:
        return ui.not_found("floor.not_found")
    try:
        return profile, _context(ui, state, start, end)
    except UnknownNode:
        return ui.not_found("floor.unknown_node")


def _staff(ui: Ui, store_id: str, start: str | None, end: str | None, template: str) -> Response:
    if not ui.sees_store(store_id):
        return ui.not_found()
    found = _plan_and_route(ui, store_id, start, end)
    if isinstance(found, Response):
        return found
    profile, context = found
    return ui.page(template, store_id=store_id, profile=profile, base=f"/stores/{store_id}/floor", **context)


@router.get("/stores/{store_id}/floor")
def floor_page(store_id: str, ui: SignedInUi, start: Node = None, end: Node = None) -> Response:
    return _staff(ui, store_id, start, end, "floor.html")


@router.get("/stores/{store_id}/floor/map")
def floor_map(store_id: str, ui: SignedInUi, start: Node = None, end: Node = None) -> Response:
    return _staff(ui, store_id, start, end, "_floor_live.html")


@router.get("/stores/{store_id}/floor/comfort")
def floor_comfort(store_id: str, ui: SignedInUi) -> Response:
    """The comfort API's answer (``GET /api/v1/stores/{id}/comfort``) for a signed-in viewer.

    The API wants an API key; a browser signed in to the dashboard has a session instead, so the
    floor page's script falls back to this route, which reads the same values the same way.
    Without the comfort use case (F comfort) installed: 404, and the page says "no readings".
    """
    if not ui.sees_store(store_id):
        return JSONResponse({"detail": "not found"}, status_code=status.HTTP_404_NOT_FOUND, headers=SECURITY_HEADERS)
    try:  # another use case's read: imported only here, so the floor pages work without it
        from services.central.usecases.comfort.reads import latest_comfort
    except ImportError:
        return JSONResponse({"detail": "no comfort readings in this installation"}, status_code=status.HTTP_404_NOT_FOUND,
                            headers=SECURITY_HEADERS)
    with ui.db.read_session() as session:
        readings = [r.api() for r in latest_comfort(session, store_id)]
    return JSONResponse(jsonable_encoder({"store_id": store_id, "readings": readings}), headers=SECURITY_HEADERS)


@router.get("/floor-assets/{name}")
def floor_asset(name: str, ui: SignedInUi) -> Response:
    """The staff floor page's script (no inline scripts: the CSP forbids them); signed-in viewers only,
    like the page (the customer page needs no script: htmx refreshes its map)."""
    path = ASSETS / name
    if "/" in name or path.suffix != ".js" or not path.is_file():
        return Response(status_code=status.HTTP_404_NOT_FOUND)
    return Response(path.read_bytes(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------------------------------------- customers


def _limited(request: Request) -> Response | None:
    wait = _public_buckets.take(caller_key(request.scope))
    if wait <= 0:
        return None
    retry = max(1, int(wait + 0.999))
    return Response(f"too many requests; retry after {retry} s", status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                    media_type="text/plain", headers={**SECURITY_HEADERS, "Retry-After": str(retry)})


def _public(request: Request, ui: Ui, store_id: str, start: str | None, end: str | None, lang: str | None,
            template: str) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    if lang in ("ja", "en"):
        ui = dataclasses.replace(ui, t=Translator(lang))
    found = _plan_and_route(ui, store_id, start, end)
    if isinstance(found, Response):
        return found
    profile, context = found
    base = f"/floor-guide/{store_id}"
    link = f"{str(request.base_url).rstrip('/')}{base}?start={context['start']}&end={context['end']}&lang={ui.t.locale}"
    qr = segno.make(link, error="m").png_data_uri(scale=4, border=2)
    return ui.page(template, store_id=store_id, store_name=profile.name or store_id, base=base, qr=qr, link=link,
                   lang=ui.t.locale, **context)


@router.get("/floor-guide/{store_id}")
def guide_page(request: Request, store_id: str, ui: PublicUi, start: Node = None, end: Node = None,
               lang: Annotated[str | None, Query(max_length=2)] = None) -> Response:
    return _public(request, ui, store_id, start, end, lang, "floor_guide.html")


@router.get("/floor-guide/{store_id}/map")
def guide_map(request: Request, store_id: str, ui: PublicUi, start: Node = None, end: Node = None,
              lang: Annotated[str | None, Query(max_length=2)] = None) -> Response:
    return _public(request, ui, store_id, start, end, lang, "_floor_guide_live.html")
