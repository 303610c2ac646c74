"""Use case D's pages.

* ``/kiosk/{store_id}`` (no sign-in): the ordering page of a store's kiosk (menu, basket, order),
  in Japanese and English (``?lang=ja|en``). Mouse and touch work; ``?airtouch=http://127.0.0.1:8765``
  connects it to the kiosk's air-touch bridge (``anshin airtouch serve``), whose pointer events
  move a cursor and press buttons. A QR code opens the same page on a phone (``source=phone``).
* ``POST /kiosk/{store_id}/orders`` (no sign-in, JSON, rate-limited per client address): places an
  order; the page's ``order_id`` makes a retry answer the first order (200) instead of a new one (201).
* ``/orders`` (signed in): the staff's list of recent orders of the stores they may see.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from services.central.dashboard.i18n import Translator
from services.central.dashboard.web import SECURITY_HEADERS, PublicUi, SignedInUi
from services.central.ratelimit import TokenBuckets, caller_key
from services.central.stores.profiles import get_profile
from services.central.usecases.ordering.menu import MENU
from services.central.usecases.ordering.schemas import OrderIn
from services.central.usecases.ordering.service import OrderConflict, OrderRefused, place_order, recent_orders, store_known

router = APIRouter(include_in_schema=False)

ASSETS = FilePath(__file__).parent / "assets"
_ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: Public page and order POSTs: requests per second and burst per client address.
PUBLIC_RATE_PER_S, PUBLIC_BURST = 2.0, 30
_buckets = TokenBuckets(PUBLIC_RATE_PER_S, PUBLIC_BURST)
#: The air-touch bridge runs on the kiosk itself: only a loopback origin may be named.
_LOOPBACK = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$")

Lang = Annotated[str | None, Query(max_length=2)]


def _limited(request: Request) -> Response | None:
    wait = _buckets.take(caller_key(request.scope))
    if wait <= 0:
        return None
    retry = max(1, int(wait + 0.999))
    return Response(f"too many requests; retry after {retry} s", status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                    media_type="text/plain", headers={**SECURITY_HEADERS, "Retry-After": str(retry)})


@router.get("/kiosk-assets/{name}")
def kiosk_asset(name: str) -> Response:
    path = ASSETS / name
    if name not in {p.name for p in ASSETS.iterdir()} or path.suffix not in _ASSET_TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(path.read_bytes(), media_type=_ASSET_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("/kiosk/{store_id}")
def kiosk_page(request: Request, store_id: str, ui: PublicUi, lang: Lang = None,
               airtouch: Annotated[str | None, Query(max_length=40)] = None,
               kiosk: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = "kiosk",
               source: Annotated[str | None, Query(pattern="^phone$")] = None) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    if lang in ("ja", "en"):
        ui = dataclasses.replace(ui, t=Translator(lang))
    with ui.db.read_session() as session:
        known = store_known(session, store_id)
        profile = get_profile(session, store_id, ui.settings)
    if not known:
        return ui.page("kiosk_missing.html", status_code=404)
    if airtouch is not None and not _LOOPBACK.fullmatch(airtouch):
        return Response("airtouch: give the kiosk's own bridge, e.g. http://127.0.0.1:8765", status_code=422,
                        media_type="text/plain", headers=SECURITY_HEADERS)
    base = f"/kiosk/{store_id}"
    phone = f"{str(request.base_url).rstrip('/')}{base}?{urlencode({'lang': ui.t.locale, 'source': 'phone'})}"
    qr = segno.make(phone, error="m").png_data_uri(scale=4, border=2)
    headers = {}
    if airtouch is not None:  # the page may read the kiosk's own pointer stream, and nothing else
        headers["Content-Security-Policy"] = SECURITY_HEADERS["Content-Security-Policy"].replace(
            "connect-src 'self'", f"connect-src 'self' {airtouch}")
    items = [(i.sku, i.name(ui.t.locale), i.price_yen) for i in MENU.values()]
    return ui.page("kiosk.html", headers=headers, store_id=store_id, store_name=profile.name or store_id, items=items,
                   qr=qr, phone=phone, airtouch=airtouch or "", kiosk=kiosk, source="phone" if source else "touch",
                   lang=ui.t.locale)


@router.post("/kiosk/{store_id}/orders")
async def kiosk_order(request: Request, store_id: str, ui: PublicUi) -> Response:
    if (limited := _limited(request)) is not None:
        return limited
    try:
        order = OrderIn.model_validate_json(await request.body())
    except ValidationError as exc:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False, include_input=False)]
        return JSONResponse({"detail": detail}, status_code=422)
    try:
        placed = place_order(ui.db, store_id, order)
    except OrderConflict as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    except OrderRefused as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    return JSONResponse(placed.order.model_dump(mode="json"), status_code=201 if placed.created else 200)


@router.get("/orders")
def orders_page(ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    scope = None if ui.viewer.store_id is None else [ui.viewer.store_id]
    with ui.db.read_session() as session:
        orders = recent_orders(session, scope)
    return ui.page("orders.html", orders=orders, menu=MENU)


@router.get("/orders/live")
def orders_live(ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    scope = None if ui.viewer.store_id is None else [ui.viewer.store_id]
    with ui.db.read_session() as session:
        orders = recent_orders(session, scope)
    return ui.page("_orders_table.html", orders=orders, menu=MENU)
