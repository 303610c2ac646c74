"""Use case E on central: enrolment with consent, crypto-shredding, baskets, and the exit decision.

Everything runs inside the caller's unit of work (the caller commits). The audit chain gets
digests and opaque member ids only, never an embedding, so erasing a member never touches the
chain (``anshin audit verify`` stays valid). A non-member's exit leaves no trace at all: the
embedding is compared in memory and dropped, with no row, no audit entry and no log line.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.usecases.checkout.consent import VERSIONS, digest
from services.central.usecases.checkout.crypto import SealedTemplate, TemplateUnavailable, open_template, seal_template
from services.central.usecases.checkout.payment import PaymentAdapter, PaymentDeclined, PaymentError
from services.central.usecases.checkout.tables import CheckoutBasket, CheckoutCharge, CheckoutMember, CheckoutMemberKey
from services.contract import Event
from services.contract.events import Explanation, Severity, UseCase
from services.contract.usecases.checkout import MATCH_THRESHOLD, MIN_MARGIN, REVIEW_THRESHOLD, Candidate, Decision, centroid, decide


class ConsentRequired(ValueError):
    """Enrolment without explicit consent to a known consent text version: nothing is stored."""


class UnknownMember(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Consent:
    accepted: bool
    version: str
    language: str  # en | ja
    channel: str  # kiosk | staff_desk


@dataclass(frozen=True, slots=True)
class ExitResult:
    outcome: str  # charged | review | ignored | empty_basket | declined
    member_id: str | None = None
    amount_yen: int = 0
    charge_id: str | None = None
    reason: str | None = None
    replayed: bool = False  # the exit was already handled (a redelivery)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def enrol(session: Session, master: bytes, store_id: str, embeddings: Sequence[np.ndarray], consent: Consent,
          payment_token: str, actor: str, now: datetime | None = None) -> str:
    """A new member from 1-3 embeddings (the kiosk discarded the photos); returns the member id.

    Raises ConsentRequired (nothing stored) without accepted consent to a known version, and
    ValueError for a wrong number or shape of embeddings.
    """
    if not consent.accepted:
        raise ConsentRequired("the customer did not give consent: nothing is stored")
    if consent.version not in VERSIONS or consent.language not in ("en", "ja") or consent.channel not in ("kiosk", "staff_desk"):
        raise ConsentRequired(f"unknown consent version {consent.version!r}, language or channel: nothing is stored")
    if not 1 <= len(embeddings) <= 3:
        raise ValueError("enrolment takes 1-3 face photos")
    if not payment_token:
        raise ValueError("enrolment needs a payment token reference")
    vectors = np.stack([np.asarray(e, dtype=np.float32).reshape(-1) for e in embeddings])
    if vectors.shape[1] != 128 or not np.isfinite(vectors).all():
        raise ValueError("each embedding must be 128 finite numbers")
    at = _now(now)
    member_id = f"m_{secrets.token_hex(8)}"
    sealed = seal_template(master, member_id, vectors)
    consent_sha = digest(VERSIONS[consent.version], consent.language)
    session.add(CheckoutMember(
        member_id=member_id, store_id=store_id, state="active", consent_version=consent.version,
        consent_language=consent.language, consent_channel=consent.channel, consent_sha256=consent_sha,
        payment_token=payment_token, photos=len(vectors), template_nonce=sealed.nonce,
        template_ciphertext=sealed.ciphertext, created_at=at, updated_at=at))
    session.flush()
    session.add(CheckoutMemberKey(member_id=member_id, wrap_nonce=sealed.wrap_nonce, wrapped_key=sealed.wrapped_key))
    session.flush()
    audit.append(session, actor, "checkout.enrol", f"checkout_member:{member_id}", {
        "store_id": store_id, "consent_version": consent.version, "consent_language": consent.language,
        "consent_channel": consent.channel, "consent_sha256": consent_sha, "photos": len(vectors),
        "template_sha256": _sha(sealed.ciphertext)}, at=at)
    return member_id


def withdraw(session: Session, member_id: str, actor: str, now: datetime | None = None) -> None:
    """Withdraw consent and erase: the data key is deleted (crypto-shredding), the ciphertext too,
    open baskets are closed. The member row stays (state ``withdrawn``) so past charges keep their owner."""
    member = session.get(CheckoutMember, member_id)
    if member is None:
        raise UnknownMember(member_id)
    at = _now(now)
    key = session.get(CheckoutMemberKey, member_id)
    template_sha = _sha(member.template_ciphertext) if member.template_ciphertext else None
    if key is not None:
        session.delete(key)
    member.template_ciphertext = None
    member.template_nonce = None
    member.payment_token = None
    member.state = "withdrawn"
    member.updated_at = at
    for basket in session.scalars(select(CheckoutBasket).where(CheckoutBasket.member_id == member_id, CheckoutBasket.state == "open")):
        basket.state, basket.updated_at = "void", at
    session.flush()
    audit.append(session, actor, "checkout.withdraw", f"checkout_member:{member_id}",
                 {"key_deleted": key is not None, "template_sha256": template_sha}, at=at)


def member_template(session: Session, master: bytes, member_id: str) -> np.ndarray:
    """A member's decrypted embeddings; TemplateUnavailable once the key is gone."""
    member = session.get(CheckoutMember, member_id)
    key = session.get(CheckoutMemberKey, member_id)
    if member is None or key is None or member.template_ciphertext is None or member.template_nonce is None:
        raise TemplateUnavailable(f"template of {member_id} cannot be decrypted (key erased)")
    return open_template(master, member_id, SealedTemplate(member.template_nonce, member.template_ciphertext,
                                                           key.wrap_nonce, key.wrapped_key))


def gallery(session: Session, master: bytes, store_id: str) -> dict[str, np.ndarray]:
    """Every active member's embeddings of ``store_id``, decrypted in memory only."""
    rows = session.execute(
        select(CheckoutMember, CheckoutMemberKey).join(CheckoutMemberKey, CheckoutMemberKey.member_id == CheckoutMember.member_id)
        .where(CheckoutMember.store_id == store_id, CheckoutMember.state == "active")).all()
    return {m.member_id: open_template(master, m.member_id, SealedTemplate(m.template_nonce, m.template_ciphertext,
                                                                           k.wrap_nonce, k.wrapped_key)) for m, k in rows}


def nearest(members: dict[str, np.ndarray], vector: np.ndarray) -> tuple[Candidate | None, Candidate | None]:
    """Best and second-best member by distance to the member's template (:func:`centroid` of their embeddings).

    >>> a, b = np.zeros((1, 128), np.float32), np.ones((1, 128), np.float32)
    >>> best, second = nearest({"a": a, "b": b}, np.zeros(128, np.float32))
    >>> best.member_id, second.member_id
    ('a', 'b')
    """
    ranked = sorted((float(np.linalg.norm(centroid(v) - vector)), m) for m, v in members.items())
    best = Candidate(ranked[0][1], ranked[0][0]) if ranked else None
    second = Candidate(ranked[1][1], ranked[1][0]) if len(ranked) > 1 else None
    return best, second


def open_basket(session: Session, store_id: str, member_id: str, now: datetime | None = None) -> CheckoutBasket:
    basket = session.scalars(select(CheckoutBasket).where(
        CheckoutBasket.member_id == member_id, CheckoutBasket.store_id == store_id, CheckoutBasket.state == "open")).first()
    if basket is None:
        member = session.get(CheckoutMember, member_id)
        if member is None or member.state != "active" or member.store_id != store_id:
            raise UnknownMember(member_id)
        at = _now(now)
        basket = CheckoutBasket(store_id=store_id, member_id=member_id, state="open", items=[], created_at=at, updated_at=at)
        session.add(basket)
        session.flush()
    return basket


def add_items(session: Session, store_id: str, member_id: str, items: Sequence[dict[str, Any]], source: str,
              now: datetime | None = None) -> CheckoutBasket:
    """Add self-scan or POS items ``{sku, name, qty, unit_yen}`` to the member's open basket."""
    basket = open_basket(session, store_id, member_id, now)
    clean = []
    for item in items:
        sku, qty, unit = str(item.get("sku", "")), item.get("qty", 1), item.get("unit_yen")
        if not sku or not isinstance(qty, int) or not isinstance(unit, int) or not 1 <= qty <= 999 or not 0 <= unit <= 1_000_000:
            raise ValueError(f"a basket item needs sku, qty 1-999 and unit_yen 0-1000000: {item!r}")
        clean.append({"sku": sku[:64], "name": str(item.get("name", sku))[:120], "qty": qty, "unit_yen": unit, "source": source})
    basket.items = [*basket.items, *clean]
    basket.updated_at = _now(now)
    session.flush()
    return basket


def basket_total(basket: CheckoutBasket) -> int:
    return sum(int(i["qty"]) * int(i["unit_yen"]) for i in basket.items)


def _event(store_id: str, camera_id: str, type_: str, payload: dict[str, Any], decision: Decision, at: datetime,
           review: bool, summary: str) -> Event:
    return Event(
        type=type_, use_case=UseCase.E, store_id=store_id, camera_id=camera_id, occurred_at=at, payload=payload,
        severity=Severity.NOTICE if review else Severity.INFO, review_required=review,
        explanation=Explanation(
            rule=f"checkout_{decision.reason}", summary=summary,
            thresholds={"match_below": MATCH_THRESHOLD, "review_below": REVIEW_THRESHOLD, "min_margin": MIN_MARGIN},
            measured={"distance": round(decision.best.distance, 4) if decision.best else 0.0,
                      **({"margin": decision.margin} if decision.margin is not None else {})}))


def handle_exit(session: Session, master: bytes, adapter: PaymentAdapter, settings: Any, store_id: str, camera_id: str,
                exit_id: str, vector: np.ndarray, quality_ok: bool, live: bool, actor: str,
                now: datetime | None = None) -> ExitResult:
    """One face at the exit: ignore a non-member (nothing kept), charge a clear member once, send doubt to staff."""
    from services.central.ingest.store import ingest

    done = session.scalars(select(CheckoutCharge).where(CheckoutCharge.store_id == store_id, CheckoutCharge.exit_id == exit_id)).first()
    if done is not None:  # a redelivered exit: answer as the first time, charge nothing new
        return ExitResult(done.state, done.member_id, done.amount_yen, done.provider_charge_id, done.reason, replayed=True)
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    if vector.shape != (128,) or not np.isfinite(vector).all():
        raise ValueError("the exit embedding must be 128 finite numbers")
    best, second = nearest(gallery(session, master, store_id), vector)
    decision = decide(best, second, quality_ok=quality_ok, live=live)
    del vector  # from here on only the member id and distances are used
    if decision.outcome == "ignore" or decision.best is None:
        return ExitResult("ignored")
    at = _now(now)
    member_id = decision.best.member_id
    basket = open_basket(session, store_id, member_id, at)
    amount = basket_total(basket)
    charge = CheckoutCharge(store_id=store_id, exit_id=exit_id, member_id=member_id, basket_id=basket.id, amount_yen=amount,
                            state="pending", reason=decision.reason, distance=round(decision.best.distance, 4),
                            created_at=at, updated_at=at)
    session.add(charge)
    session.flush()  # the (store, exit) unique key: a concurrent redelivery fails here, before any charge
    payload = {"member_id": member_id, "exit_id": exit_id, "items": sum(int(i["qty"]) for i in basket.items),
               "amount_yen": amount, "distance": round(decision.best.distance, 4), "margin": decision.margin}
    if decision.outcome == "charge" and amount == 0:
        charge.state = "empty_basket"
        return ExitResult("empty_basket", member_id, 0, reason=decision.reason)
    if decision.outcome == "charge":
        member = session.get(CheckoutMember, member_id)
        try:
            paid = adapter.charge(member.payment_token or "", amount, idempotency_key=f"{store_id}:{exit_id}")
        except PaymentDeclined as exc:
            charge.state, charge.reason = "declined", "declined"
            event = _event(store_id, camera_id, "checkout.doubtful", {**payload, "reason": "declined", "provider_note": str(exc)[:200]},
                           decision, at, True, "The member's card was declined; staff settle the basket at the exit.")
        except PaymentError:
            raise  # the caller's transaction rolls back: the exit can be redelivered, the key keeps it single
        else:
            charge.state, charge.provider_charge_id = "charged", paid.id
            basket.state, basket.updated_at = "charged", at
            event = _event(store_id, camera_id, "checkout.charged", {**payload, "charge_id": paid.id}, decision, at, False,
                           "A consenting member left the store and was charged once for the basket.")
    else:
        charge.state = "review"
        basket.state, basket.updated_at = "review", at
        event = _event(store_id, camera_id, "checkout.doubtful", {**payload, "reason": decision.reason}, decision, at, True,
                       "A doubtful member match at the exit; nothing was charged. Staff check with the customer.")
    charge.event_id = event.event_id
    session.flush()
    ingest(session, [event], settings, actor, now=at)
    return ExitResult(charge.state, member_id, amount, charge.provider_charge_id, charge.reason)


def refund(session: Session, adapter: PaymentAdapter, store_id: str, exit_id: str, actor: str, now: datetime | None = None) -> str:
    """Refund an exit's charge in full (idempotent per exit); returns the provider's refund id."""
    charge = session.scalars(select(CheckoutCharge).where(CheckoutCharge.store_id == store_id, CheckoutCharge.exit_id == exit_id)).first()
    if charge is None or charge.provider_charge_id is None:
        raise LookupError(f"no charge for exit {exit_id}")
    if charge.provider_refund_id:
        return charge.provider_refund_id
    done = adapter.refund(charge.provider_charge_id, idempotency_key=f"refund:{store_id}:{exit_id}")
    at = _now(now)
    charge.state, charge.provider_refund_id, charge.updated_at = "refunded", done.id, at
    session.flush()
    audit.append(session, actor, "checkout.refund", f"checkout_exit:{store_id}:{exit_id}",
                 {"member_id": charge.member_id, "amount_yen": done.amount_yen, "refund_id": done.id}, at=at)
    return done.id


def on_decided(session: Session, item: Any, event: Any, final_state: str) -> None:
    """Staff settled a doubtful exit: confirmed (they checked the customer) → charge the basket once
    through the adapter (same idempotency key as the exit); dismissed → nothing is charged and the
    basket is void (the customer pays at a till). Without a configured provider a confirmed exit is
    left to the till too (``settled_by_staff``)."""
    charge = session.scalars(select(CheckoutCharge).where(CheckoutCharge.event_id == event.event_id)).first()
    if charge is None or charge.state not in ("review", "declined"):
        return
    at = datetime.now(timezone.utc)
    basket = session.get(CheckoutBasket, charge.basket_id) if charge.basket_id else None
    charge.updated_at = at
    if final_state != "confirmed" or charge.state == "declined":
        charge.state = "settled_by_staff" if final_state == "confirmed" else "dismissed"
        if basket is not None:
            basket.state, basket.updated_at = "void", at
        return
    member = session.get(CheckoutMember, charge.member_id)
    try:
        adapter = PaymentAdapter.from_env()
    except ValueError:
        charge.state = "settled_by_staff"
        return
    try:
        paid = adapter.charge(member.payment_token if member else "", charge.amount_yen, f"{charge.store_id}:{charge.exit_id}")
        charge.state, charge.provider_charge_id = "charged", paid.id
        if basket is not None:
            basket.state, basket.updated_at = "charged", at
    except PaymentError:
        charge.state = "settled_by_staff"
    finally:
        adapter.close()


#: The consent text promises erasure 12 months after the last visit (consent.py).
INACTIVE_DAYS = 365


def erase_inactive(session: Session, now: datetime | None = None, days: int = INACTIVE_DAYS, actor: str = "retention",
                   dry_run: bool = False) -> list[str]:
    """Withdraw (crypto-shred) every active member with no enrolment or exit in the last ``days``;
    returns their ids. A member's last visit is their newest exit, else their enrolment."""
    from sqlalchemy import func

    at = _now(now)
    cutoff = at.timestamp() - days * 86400
    last_exit = dict(session.execute(select(CheckoutCharge.member_id, func.max(CheckoutCharge.created_at))
                                     .group_by(CheckoutCharge.member_id)).all())
    stale = [m.member_id for m in session.scalars(select(CheckoutMember).where(CheckoutMember.state == "active"))
             if max(m.created_at, last_exit.get(m.member_id) or m.created_at).timestamp() < cutoff]
    if not dry_run:
        for member_id in stale:
            withdraw(session, member_id, actor, at)
    return stale
