"""The signage device's API (``/api/v1/signage/...``): a store-bound key with ``commands:device``
(the scope of store devices) opens a call, relays its SDP answer, reads its mailbox and hangs up.
A customer's phone may take over one open call with the one-time link the display shows
(``sgp_…`` token, valid while that call is open): the same routes, limited to that call.

A key without a store is refused: a signage display belongs to one store, and everything it reads
(calls, pushed content, announcements) is that store's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from services.central.api.deps import DatabaseDep, SettingsDep, _bearer, get_principal
from services.central.auth import Scope
from services.central.settings import Settings
from services.central.stores import get_profile
from services.central.usecases.signage import calls
from services.central.usecases.signage.ice import ice_servers
from services.shared.strict import Strict

router = APIRouter(prefix="/api/v1/signage", tags=["signage"])


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls the signage API: a display (store-bound device key) or a customer's phone that
    continues one call (``call_id``), signed in by the one-time link the display showed."""

    store_id: str
    name: str  # the key's name, or phone:<call id>: the actor in audit entries (never a person)
    call_id: int | None = None  # a phone: the one call it may touch


def _caller(request: Request, db: DatabaseDep,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    if credentials is not None and credentials.credentials.startswith(calls.PHONE_PREFIX):
        with db.read_session() as session:
            call = calls.by_phone_token(session, credentials.credentials)
        if call is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown phone link, or its call has ended",
                                headers={"WWW-Authenticate": "Bearer"})
        return Caller(call.store_id, f"phone:{call.id}", call.id)
    principal = get_principal(request, db, credentials)
    if not principal.allows(Scope.COMMANDS_DEVICE):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"API key {principal.name!r} lacks scope 'commands:device'")
    if principal.store_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"API key {principal.name!r} is not bound to a store; "
                            "a signage key needs one (anshin keys create --store ID --scope commands:device)")
    return Caller(principal.store_id, principal.name)


Device = Annotated[Caller, Depends(_caller)]


def _display_only(device: Caller) -> None:
    if device.call_id is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a phone continues its call; only the store's display may do this")


class Signal(Strict):
    """An SDP answer from the signage to the staff who offered (non-trickle: candidates inside)."""

    kind: Literal["answer"]
    epoch: int = Field(ge=1)
    sdp: str = Field(min_length=1, max_length=64_000)


def ice_for(settings: Settings, who: str) -> list[dict[str, Any]]:
    secret = settings.signage_turn_secret.get_secret_value() if settings.signage_turn_secret else None
    return ice_servers(settings.signage_ice_servers, secret, settings.signage_turn_ttl_s, who)


@router.get("/device")
def device_config(request: Request, device: Device, db: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    """What the page needs: its store, ICE servers, whether calls are recorded, a phone QR code.
    A phone's first read moves its call from the display to the phone (the staff offers again)."""
    call, session_token = None, None
    if device.call_id is not None:
        with db.unit_of_work() as session:
            row = calls.get_call(session, device.call_id, device.store_id)
            session_token = calls.move_to_phone(session, row, device.name)
            call = calls.view(row, calls.utc_now()).api()
    with db.read_session() as session:
        profile = get_profile(session, device.store_id, settings)
        after = calls.last_message_id(session)
    link = f"{str(request.base_url).rstrip('/')}/floor-guide/{device.store_id}"
    return {
        "store_id": device.store_id, "store_name": profile.name or device.store_id, "device": device.name,
        "ice_servers": ice_for(settings, device.name),
        "recording": settings.signage_recording, "phone_link": link,
        "phone_qr": segno.make(link, error="m").png_data_uri(scale=4, border=2), "after": after, "call": call,
        "session_token": session_token,  # a phone: use this from now on (the link's secret is spent)
    }


@router.post("/calls", status_code=status.HTTP_201_CREATED)
def open_call(device: Device, db: DatabaseDep) -> dict[str, Any]:
    """A customer pressed "talk to staff": a waiting call (the same one again while it is open)."""
    _display_only(device)
    with db.unit_of_work() as session:
        call = calls.open_call(session, device.store_id, device.name)
        return calls.view(call, call.signage_seen_at).api()


def _own_call(session: Any, call_id: int, device: Caller) -> Any:
    try:
        call = calls.get_call(session, call_id, device.store_id)
    except calls.CallNotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    if call.id != device.call_id and call.device != device.name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call {call_id}")
    return call


@router.post("/calls/{call_id}/phone", status_code=status.HTTP_201_CREATED)
def phone_link(request: Request, call_id: int, device: Device, db: DatabaseDep) -> dict[str, Any]:
    """A one-time link (and its QR code) that moves this open call to the customer's phone."""
    _display_only(device)
    with db.unit_of_work() as session:
        call = _own_call(session, call_id, device)
        try:
            token = calls.issue_phone_token(session, call)
        except calls.CallError as e:
            raise HTTPException(status.HTTP_409_CONFLICT, str(e)) from None
    # the token rides in the fragment: never sent to a server, never in access logs
    link = f"{str(request.base_url).rstrip('/')}/signage/phone#t={token}"
    return {"link": link, "qr": segno.make(link, error="m").png_data_uri(scale=4, border=2)}


@router.post("/calls/{call_id}/signal", status_code=status.HTTP_202_ACCEPTED)
def signal(call_id: int, body: Signal, device: Device, db: DatabaseDep) -> dict[str, Any]:
    with db.unit_of_work() as session:
        call = _own_call(session, call_id, device)
        if device.call_id is None and call.phone_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"call {call_id} continues on a phone; answer dropped")
        if call.state != "active" or call.epoch != body.epoch:
            raise HTTPException(status.HTTP_409_CONFLICT, f"call {call_id} is {call.state} (session {call.epoch}); answer dropped")
        calls.send(session, call.store_id, "staff", "answer", {"call_id": call.id, "epoch": body.epoch, "sdp": body.sdp}, call.id)
    return {"relayed": True}


@router.post("/calls/{call_id}/end")
def hang_up(call_id: int, device: Device, db: DatabaseDep) -> dict[str, Any]:
    with db.unit_of_work() as session:
        call = calls.hang_up(session, _own_call(session, call_id, device), device.name)
        return calls.view(call, call.ended_at or call.created_at).api()


@router.get("/inbox")
def inbox(device: Device, db: DatabaseDep, settings: SettingsDep,
          after: Annotated[int, Query(ge=0)] = 0, call_id: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    """Messages to this store's signage after ``after``, and the state of ``call_id`` (polling it
    also says the customer is still there: a waiting call not polled for a while is abandoned).
    A phone reads its call's messages only."""
    if device.call_id is not None:
        call_id = device.call_id
    with db.unit_of_work() as session:
        current = None
        if call_id is not None:
            call = _own_call(session, call_id, device)
            call.signage_seen_at = calls.utc_now()
            current = calls.view(call, call.signage_seen_at).api()
        fetched = calls.inbox(session, device.store_id, "signage", after)
        calls.abandon_stale(session, settings.signage_stale_after_s)
    # store-wide messages (pushed content, announcements) and this call's; other displays' calls skipped
    messages = [m for m in fetched if (m["call_id"] is None and device.call_id is None) or m["call_id"] == call_id]
    return {"messages": messages, "call": current, "after": max([after, *(m["id"] for m in fetched)])}
