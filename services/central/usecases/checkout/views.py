"""The face checkout page of a store (``/stores/{id}/checkout``): members with their consent
state and a withdraw-and-erase button, and member exits (charged, sent to staff, refunded) with
links to their review items. Faces never appear: the page shows opaque member ids only."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from services.central.dashboard.access import CsrfViewer
from services.central.dashboard.web import SignedInUi

router = APIRouter(include_in_schema=False)


@router.get("/checkout")
def checkout_stores(ui: SignedInUi) -> Response:
    return ui.store_chooser("checkout", "checkout_stores.html")


@router.get("/stores/{store_id}/checkout")
def checkout_page(store_id: str, ui: SignedInUi) -> Response:
    from services.central.db.tables import ReviewItem
    from services.central.usecases.checkout.consent import current
    from services.central.usecases.checkout.tables import CheckoutCharge, CheckoutMember

    if not ui.sees_store(store_id):
        return ui.not_found()
    with ui.db.read_session() as session:
        members = session.scalars(select(CheckoutMember).where(CheckoutMember.store_id == store_id)
                                  .order_by(CheckoutMember.created_at.desc()).limit(500)).all()
        exits = session.scalars(select(CheckoutCharge).where(CheckoutCharge.store_id == store_id)
                                .order_by(CheckoutCharge.created_at.desc()).limit(200)).all()
        event_ids = [c.event_id for c in exits if c.event_id]
        items = dict(session.execute(select(ReviewItem.event_id, ReviewItem.id).where(ReviewItem.event_id.in_(event_ids))).all()) if event_ids else {}
        members_view = [{"id": m.member_id, "state": m.state, "version": m.consent_version, "language": m.consent_language,
                         "channel": m.consent_channel, "created": m.created_at} for m in members]
        exits_view = [{"exit": c.exit_id, "member": c.member_id, "amount": c.amount_yen, "state": c.state, "reason": c.reason,
                       "at": c.created_at, "item": items.get(c.event_id)} for c in exits]
    consent = current()
    lang = 1 if ui.t.locale == "ja" else 0
    return ui.page("checkout.html", store_id=store_id, members=members_view, exits=exits_view,
                   withdrawn=ui.request.query_params.get("withdrawn") == "1", consent_version=consent.version,
                   consent_lines=[consent.purpose[lang], consent.retention[lang], consent.withdrawal[lang]])


@router.post("/stores/{store_id}/checkout/members/{member_id}/withdraw")
def withdraw_member(store_id: str, member_id: str, ui: SignedInUi, viewer: CsrfViewer) -> Response:
    """Staff desk: the member withdraws consent; the key is deleted at once (audited)."""
    from services.central.usecases.checkout.service import withdraw
    from services.central.usecases.checkout.tables import CheckoutMember

    if not ui.sees_store(store_id):
        return ui.not_found()
    with ui.db.unit_of_work() as session:
        member = session.get(CheckoutMember, member_id)
        if member is None or member.store_id != store_id:
            return ui.not_found()
        if member.state == "active":
            withdraw(session, member_id, viewer.actor)
    return RedirectResponse(f"/stores/{store_id}/checkout?withdrawn=1", status_code=status.HTTP_303_SEE_OTHER)
