"""``/api/v1/stores/{store_id}/checkout/...``: the enrolment kiosk, self-scan/POS and the exit
camera talk to central here (all with a store-bound ``events:write`` key).

Faces arrive as embeddings only: the kiosk and the exit camera compute them on the edge and
never send a photo. An exit of a non-member returns ``ignored`` and leaves nothing behind.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, status
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.exc import IntegrityError

from services.central.api.deps import DatabaseDep, EventsWriter, SettingsDep, store_scope
from services.central.usecases.checkout import service
from services.central.usecases.checkout.crypto import master_key_from_env
from services.central.usecases.checkout.payment import PaymentAdapter, PaymentError
from services.shared.strict import Strict

router = APIRouter(prefix="/api/v1/stores", tags=["checkout"])

def _unit_length(values: list[float]) -> list[float]:
    """Templates and exits compare unit-length embeddings (edge/usecases/checkout/faces.py scales them);
    a raw dlib vector (length about 1.4) would shift every distance, so it is refused, not matched."""
    norm = float(np.linalg.norm(np.asarray(values, dtype=np.float64)))
    if not 0.98 <= norm <= 1.02:
        raise ValueError(f"an embedding must have unit length (got {norm:.3f}); send the edge's flip-averaged, unit-length vector")
    return values


Embedding = Annotated[list[Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]], Field(min_length=128, max_length=128),
                      AfterValidator(_unit_length)]
ExitId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class EnrolIn(Strict):
    consent: bool = Field(description="the customer ticked the consent box after reading the text")
    consent_version: str = Field(max_length=16)
    language: Literal["en", "ja"]
    channel: Literal["kiosk", "staff_desk"]
    payment_token: str = Field(min_length=1, max_length=64, description="token reference from the payment adapter")
    embeddings: list[Embedding] = Field(min_length=1, max_length=3)


class ItemIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=120)
    qty: int = Field(ge=1, le=999)
    unit_yen: int = Field(ge=0, le=1_000_000)


class ItemsIn(Strict):
    source: Literal["self_scan", "pos"]
    items: list[ItemIn] = Field(min_length=1, max_length=200)


class ExitIn(Strict):
    exit_id: ExitId = Field(description="one person passing the gate once; the charge's idempotency key")
    camera_id: str = Field(min_length=1, max_length=64)
    embedding: Embedding
    quality_ok: bool
    live: bool


class ExitOut(BaseModel):
    outcome: str
    member_id: str | None = None
    amount_yen: int = 0
    charge_id: str | None = None
    reason: str | None = None
    replayed: bool = False


def _identified_store(db, store_id: str, settings) -> None:  # noqa: ANN001
    """Face checkout runs only in stores registered with the ``identified`` privacy profile (DESIGN.md)."""
    from services.central.stores import get_profile

    with db.read_session() as session:
        profile = get_profile(session, store_id, settings)
    if profile.privacy_profile != "identified":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"store {store_id!r} has privacy profile {profile.privacy_profile!r}; opt-in face checkout needs "
                            f"'identified' (anshin stores set {store_id} --privacy identified)")


def _master() -> bytes:
    try:
        return master_key_from_env()
    except ValueError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


@router.post("/{store_id}/checkout/members", status_code=201)
def enrol(store_id: str, body: EnrolIn, principal: EventsWriter, db: DatabaseDep, settings: SettingsDep) -> dict[str, str]:
    """Enrol a consenting customer (422 without consent: nothing is stored)."""
    store_scope(principal, store_id)
    _identified_store(db, store_id, settings)
    master = _master()
    consent = service.Consent(body.consent, body.consent_version, body.language, body.channel)
    try:
        with db.unit_of_work() as session:
            member_id = service.enrol(session, master, store_id, [np.array(e) for e in body.embeddings], consent,
                                      body.payment_token, principal.name)
    except (service.ConsentRequired, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    return {"member_id": member_id}


@router.post("/{store_id}/checkout/members/{member_id}/withdraw")
def withdraw(store_id: str, member_id: str, principal: EventsWriter, db: DatabaseDep) -> dict[str, str]:
    """Withdraw consent: the data key and template are erased at once."""
    store_scope(principal, store_id)
    try:
        with db.unit_of_work() as session:
            member = session.get(service.CheckoutMember, member_id)
            if member is None or member.store_id != store_id:
                raise service.UnknownMember(member_id)
            service.withdraw(session, member_id, principal.name)
    except service.UnknownMember:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown member") from None
    return {"member_id": member_id, "state": "withdrawn"}


@router.post("/{store_id}/checkout/members/{member_id}/items")
def add_items(store_id: str, member_id: str, body: ItemsIn, principal: EventsWriter, db: DatabaseDep) -> dict[str, int]:
    """Items scanned by the member (self-scan) or rung up by the POS, into the open basket."""
    store_scope(principal, store_id)
    try:
        with db.unit_of_work() as session:
            basket = service.add_items(session, store_id, member_id, [i.model_dump() for i in body.items], body.source)
            return {"items": sum(int(i["qty"]) for i in basket.items), "amount_yen": service.basket_total(basket)}
    except service.UnknownMember:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown or withdrawn member") from None


@router.post("/{store_id}/checkout/exits", response_model=ExitOut)
def exit_gate(store_id: str, body: ExitIn, principal: EventsWriter, db: DatabaseDep, settings: SettingsDep) -> ExitOut:
    """One face at the exit gate. Redelivery of the same ``exit_id`` returns the first answer."""
    store_scope(principal, store_id)
    _identified_store(db, store_id, settings)
    master = _master()
    try:
        adapter = PaymentAdapter.from_env()
    except ValueError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    vector = np.array(body.embedding, dtype=np.float32)
    try:
        for attempt in (1, 2):
            try:
                with db.unit_of_work() as session:
                    result = service.handle_exit(session, master, adapter, settings, store_id, body.camera_id, body.exit_id,
                                                 vector, body.quality_ok, body.live, principal.name)
                break
            except IntegrityError:  # a concurrent delivery of the same exit won: answer from its row
                if attempt == 2:
                    raise
    except PaymentError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"payment provider: {exc}; redeliver the exit later") from None
    finally:
        adapter.close()
    return ExitOut(**{k: getattr(result, k) for k in ExitOut.model_fields})
