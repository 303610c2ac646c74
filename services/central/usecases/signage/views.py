"""Use case C's pages and the staff console's JSON routes.

* ``/signage`` (no user session): the signage/kiosk shell, full screen, ja/en (``?lang=``). It holds
  no data: its script signs in with the display's store-bound device key (kept in the display's
  local storage, entered once or passed as ``#key=``) and talks to ``/api/v1/signage/...``.
* ``/signage/console`` (signed in): remote staff's console: the waiting calls of every store they
  may see, their own calls (take, hold, transfer, end), pushed content and announcements, and the
  per-store figures. Its script polls ``/signage/console/state`` and posts actions with the
  session's CSRF token. WebRTC offers go through ``/signage/console/calls/{id}/signal``.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import Field, model_validator
from sqlalchemy import select

from services.central import audit
from services.central.dashboard.access import CsrfViewer
from services.central.dashboard.i18n import Translator
from services.central.dashboard.web import SECURITY_HEADERS, PublicUi, SignedInUi, Ui
from services.central.db.tables import UserRow
from services.central.stores import known_stores
from services.central.usecases.signage import calls
from services.central.usecases.signage.api import ice_for
from services.central.usecases.signage.tables import SignageCall
from services.central.users.roles import Permission, Role
from services.central.users.sessions import Viewer
from services.shared.strict import Strict

router = APIRouter(include_in_schema=False)

ASSETS = FilePath(__file__).parent / "assets"
_ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
FIGURES_WINDOW = timedelta(hours=24)
STORE_ID = r"^[A-Za-z0-9._-]{1,64}$"


def _json(body: Any, code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=code, headers=SECURITY_HEADERS)


def _error(code: int, detail: str) -> JSONResponse:
    return _json({"detail": detail}, code)


@router.get("/signage-assets/{name}")
def signage_asset(name: str) -> Response:
    """The signage and console scripts and style (no inline scripts or styles: the CSP forbids them).
    Public like the signage shell: code only, no data."""
    path = ASSETS / name
    if "/" in name or path.suffix not in _ASSET_TYPES or not path.is_file():
        return Response(status_code=status.HTTP_404_NOT_FOUND)
    return Response(path.read_bytes(), media_type=_ASSET_TYPES[path.suffix],
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


@router.get("/signage")
def signage_page(ui: PublicUi, lang: Annotated[str | None, Query(max_length=2)] = None) -> Response:
    if lang in ("ja", "en"):
        ui = dataclasses.replace(ui, t=Translator(lang))
    return ui.page("signage.html", lang=ui.t.locale, mode="display", base="/signage")


@router.get("/signage/phone")
def phone_page(ui: PublicUi, lang: Annotated[str | None, Query(max_length=2)] = None) -> Response:
    """The customer's phone continuing a call: the same shell, signed in by the link's ``#t=`` secret."""
    if lang in ("ja", "en"):
        ui = dataclasses.replace(ui, t=Translator(lang))
    return ui.page("signage.html", lang=ui.t.locale, mode="phone", base="/signage/phone")


# ---------------------------------------------------------------------------------------------- console


def _stores(viewer: Viewer) -> str | None:
    return viewer.store_id


def _may_serve(viewer: Viewer) -> bool:
    return viewer.role.allows(Permission.DECIDE)


@router.get("/signage/console")
def console_page(ui: SignedInUi) -> Response:
    assert ui.viewer is not None
    with ui.db.read_session() as session:
        stores = [s for s in known_stores(session) if ui.viewer.store_id in (None, s)]
        rows = calls.figures(session, since=calls.utc_now() - FIGURES_WINDOW, stores=_stores(ui.viewer))
    return ui.page("signage_console.html", stores=stores, figures=rows, may_serve=_may_serve(ui.viewer),
                   ice_servers=ice_for(ui.settings, ui.viewer.actor))


def _colleagues(ui: Ui, viewer: Viewer) -> list[str]:
    with ui.db.read_session() as session:
        rows = session.scalars(select(UserRow).where(UserRow.disabled_at.is_(None), UserRow.name != viewer.name)
                               .order_by(UserRow.name))
        return [u.name for u in rows if Role(u.role).allows(Permission.DECIDE) and u.store_id in (None, viewer.store_id)]


@router.get("/signage/console/state")
def console_state(ui: SignedInUi, after: Annotated[int, Query(ge=0)] = 0) -> Response:
    """Queue, own calls, messages to this person (SDP answers) after ``after``, colleagues, figures."""
    viewer = ui.viewer
    assert viewer is not None
    with ui.db.unit_of_work() as session:
        calls.abandon_stale(session, ui.settings.signage_stale_after_s)
        calls.purge_messages(session)
    with ui.db.read_session() as session:
        waiting = calls.queue(session, viewer.name, _stores(viewer))
        own = calls.mine(session, viewer.name)
        messages = calls.inbox(session, "", "staff", after, call_ids=[c.id for c in own])
        figures = calls.figures(session, since=calls.utc_now() - FIGURES_WINDOW, stores=_stores(viewer))
    return _json({
        "queue": [c.api() for c in waiting], "mine": [c.api() for c in own], "messages": messages,
        "after": max([after, *(m["id"] for m in messages)]), "colleagues": _colleagues(ui, viewer),
        "figures": [dataclasses.asdict(f) for f in figures],
    })


class Action(Strict):
    to: str | None = Field(default=None, max_length=64)  # transfer: the colleague's user name


def _act(ui: Ui, viewer: Viewer, call_id: int, action: str, to: str | None = None) -> Response:
    if not _may_serve(viewer):
        return _error(status.HTTP_403_FORBIDDEN, "your role may not serve calls")
    if action == "transfer" and (not to or to not in _colleagues(ui, viewer)):
        return _error(422, f"no colleague {to!r} who may serve this store")
    try:
        with ui.db.unit_of_work() as session:
            call = calls.get_call(session, call_id, _stores(viewer))
            call = calls.move(session, call, action, viewer.name, viewer.actor, to=to)
            return _json(calls.view(call, calls.utc_now()).api())
    except calls.CallNotFound as e:
        return _error(status.HTTP_404_NOT_FOUND, str(e))
    except calls.CallError as e:
        return _error(status.HTTP_409_CONFLICT, str(e))


@router.post("/signage/console/calls/{call_id}/actions/{action}")
def call_action(call_id: int, action: Literal["take", "hold", "transfer", "end"], ui: SignedInUi, viewer: CsrfViewer,
                body: Action | None = None) -> Response:
    return _act(ui, viewer, call_id, action, body.to if body else None)


class Offer(Strict):
    """The staff browser's SDP offer (non-trickle: ICE candidates inside)."""

    kind: Literal["offer"]
    epoch: int = Field(ge=1)
    sdp: str = Field(min_length=1, max_length=64_000)


@router.post("/signage/console/calls/{call_id}/signal")
def call_signal(call_id: int, body: Offer, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    with ui.db.unit_of_work() as session:
        call = session.get(SignageCall, call_id)
        if call is None or viewer.store_id not in (None, call.store_id):
            return _error(status.HTTP_404_NOT_FOUND, f"no call {call_id}")
        if call.state != "active" or call.staff != viewer.name or call.epoch != body.epoch:
            return _error(status.HTTP_409_CONFLICT, f"call {call_id} is not yours and active in session {body.epoch}")
        calls.send(session, call.store_id, "signage", "offer", {"call_id": call.id, "epoch": body.epoch, "sdp": body.sdp}, call.id)
    return _json({"relayed": True}, status.HTTP_202_ACCEPTED)


class Push(Strict):
    """Content for one store's signage: a product page (title, optional link) or a floor route from B."""

    store_id: str = Field(pattern=STORE_ID)
    kind: Literal["product", "route"]
    title: str = Field(default="", max_length=200)
    url: str | None = Field(default=None, max_length=500)
    start: str | None = Field(default=None, max_length=64)
    end: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _check(self) -> Push:
        if self.kind == "product" and not self.title:
            raise ValueError("a product push needs a title")
        if self.url is not None and not (self.url.startswith("https://") or
                                         (self.url.startswith("/") and not self.url.startswith("//"))):
            raise ValueError("url must be https://… or a path on this server")
        return self


class Broadcast(Strict):
    store_ids: list[Annotated[str, Field(pattern=STORE_ID)]] = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=500)


def _refused_stores(viewer: Viewer, stores: list[str]) -> list[str]:
    return [s for s in stores if viewer.store_id not in (None, s)]


@router.post("/signage/console/push")
def push(request: Request, body: Push, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    if not _may_serve(viewer) or _refused_stores(viewer, [body.store_id]):
        return _error(status.HTTP_403_FORBIDDEN, f"you may not push to {body.store_id}")
    content: dict[str, Any] = body.model_dump(exclude_none=True)
    if body.kind == "route":
        content["url"] = f"/floor-guide/{body.store_id}"
    if "url" in content:  # a QR code to continue on a phone
        link = content["url"] if content["url"].startswith("https://") else str(request.base_url).rstrip("/") + content["url"]
        content["qr"] = segno.make(link, error="m").png_data_uri(scale=4, border=2)
    with ui.db.unit_of_work() as session:
        sent = calls.send(session, body.store_id, "signage", "push", content)
        audit.append(session, viewer.actor, "signage.push", f"store:{body.store_id}", {"kind": body.kind})
    return _json({"message_id": sent}, status.HTTP_202_ACCEPTED)


@router.post("/signage/console/broadcast")
def broadcast(body: Broadcast, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    stores = sorted(set(body.store_ids))
    if not _may_serve(viewer) or (refused := _refused_stores(viewer, stores)):
        return _error(status.HTTP_403_FORBIDDEN, f"you may not broadcast to {', '.join(refused) or 'stores'}")
    with ui.db.unit_of_work() as session:
        ids = [calls.send(session, s, "signage", "announce", {"text": body.text}) for s in stores]
        audit.append(session, viewer.actor, "signage.broadcast", "signage", {"stores": stores})
    return _json({"stores": stores, "message_ids": ids}, status.HTTP_202_ACCEPTED)
