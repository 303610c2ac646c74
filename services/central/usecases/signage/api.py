"""The signage device's API (``/api/v1/signage/...``): a store-bound key with ``commands:device``
(the scope of store devices) opens a call, relays its SDP answer, reads its mailbox and hangs up.

A key without a store is refused: a signage display belongs to one store, and everything it reads
(calls, pushed content, announcements) is that store's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import Field

from services.central.api.deps import DatabaseDep, SettingsDep, require
from services.central.auth import Principal, Scope
from services.central.settings import Settings
from services.central.stores import get_profile
from services.central.usecases.signage import calls
from services.central.usecases.signage.ice import ice_servers
from services.shared.strict import Strict

router = APIRouter(prefix="/api/v1/signage", tags=["signage"])


def _device(principal: Annotated[Principal, Depends(require(Scope.COMMANDS_DEVICE))]) -> Principal:
    if principal.store_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"API key {principal.name!r} is not bound to a store; "
                            "a signage key needs one (anshin keys create --store ID --scope commands:device)")
    return principal


Device = Annotated[Principal, Depends(_device)]


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
    """What the signage page needs: its store, ICE servers, whether calls are recorded, a phone QR code."""
    assert device.store_id is not None
    with db.read_session() as session:
        profile = get_profile(session, device.store_id, settings)
        after = calls.last_message_id(session)
    link = f"{str(request.base_url).rstrip('/')}/floor-guide/{device.store_id}"
    return {
        "store_id": device.store_id, "store_name": profile.name or device.store_id, "device": device.name,
        "ice_servers": ice_for(settings, device.name),
        "recording": settings.signage_recording, "phone_link": link,
        "phone_qr": segno.make(link, error="m").png_data_uri(scale=4, border=2), "after": after,
    }


@router.post("/calls", status_code=status.HTTP_201_CREATED)
def open_call(device: Device, db: DatabaseDep) -> dict[str, Any]:
    """A customer pressed "talk to staff": a waiting call (the same one again while it is open)."""
    assert device.store_id is not None
    with db.unit_of_work() as session:
        call = calls.open_call(session, device.store_id, device.name)
        return calls.view(call, call.signage_seen_at).api()


def _own_call(session: Any, call_id: int, device: Principal) -> Any:
    try:
        call = calls.get_call(session, call_id, device.store_id)
    except calls.CallNotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    if call.device != device.name:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call {call_id}")
    return call


@router.post("/calls/{call_id}/signal", status_code=status.HTTP_202_ACCEPTED)
def signal(call_id: int, body: Signal, device: Device, db: DatabaseDep) -> dict[str, Any]:
    with db.unit_of_work() as session:
        call = _own_call(session, call_id, device)
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
    also says the customer is still there: a waiting call not polled for a while is abandoned)."""
    assert device.store_id is not None
    with db.unit_of_work() as session:
        current = None
        if call_id is not None:
            call = _own_call(session, call_id, device)
            call.signage_seen_at = calls.utc_now()
            current = calls.view(call, call.signage_seen_at).api()
        fetched = calls.inbox(session, device.store_id, "signage", after)
        calls.abandon_stale(session, settings.signage_stale_after_s)
    # store-wide messages (pushed content, announcements) and this call's; other displays' calls skipped
    messages = [m for m in fetched if m["call_id"] is None or m["call_id"] == call_id]
    return {"messages": messages, "call": current, "after": max([after, *(m["id"] for m in fetched)])}
