"""Use case E's tables: consenting members, their wrapped data keys and encrypted templates,
session baskets and charges.

Crypto-shredding: a member's face template is AES-GCM ciphertext under the member's own data key;
that key is stored only wrapped by the store master key, in ``checkout_member_keys``. Erasure
deletes the key row and the ciphertext; the ciphertext alone would be useless anyway, so a backup
that still holds it cannot give the template back once the key is gone (keep key backups short:
see docs/usecases/checkout.md). No photo and no non-member's face is ever stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.central.db.tables import Base
from services.central.db.types import UtcDateTime


class CheckoutMember(Base):
    """One member who opted in: consent, payment token reference and the encrypted template."""

    __tablename__ = "checkout_members"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # opaque, random (m_...)
    store_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # active | withdrawn | erased
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_language: Mapped[str] = mapped_column(String(2))  # the language the member read: en | ja
    consent_channel: Mapped[str] = mapped_column(String(16))  # kiosk | staff_desk
    consent_sha256: Mapped[str] = mapped_column(String(64))  # digest of the exact text shown
    payment_token: Mapped[str | None] = mapped_column(String(64), nullable=True)  # provider token reference, never a card number
    photos: Mapped[int] = mapped_column(Integer)  # enrolment photos turned into the template (photos discarded)
    template_nonce: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    template_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_checkout_members_store_state", "store_id", "state"),)


class CheckoutMemberKey(Base):
    """A member's data key, wrapped (AES-GCM) by the store master key; deleting it shreds the template."""

    __tablename__ = "checkout_member_keys"

    member_id: Mapped[str] = mapped_column(String(64), ForeignKey("checkout_members.member_id", ondelete="CASCADE"), primary_key=True)
    wrap_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)


class CheckoutBasket(Base):
    """A member's shopping session: items from self-scan or the POS API; one charge settles it."""

    __tablename__ = "checkout_baskets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # open | charged | review | refunded
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{sku, name, qty, unit_yen, source}]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_checkout_baskets_member_state", "member_id", "state"),)


class CheckoutCharge(Base):
    """One exit of a member: charged once (idempotency key = exit id), sent to staff, or refunded."""

    __tablename__ = "checkout_charges"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    store_id: Mapped[str] = mapped_column(String(64))
    exit_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    basket_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    amount_yen: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # charged | review | declined | refunded | settled_by_staff
    reason: Mapped[str] = mapped_column(String(32))  # matched | low_margin | between_thresholds | liveness | quality | declined
    provider_charge_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_refund_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)  # the checkout.* event it raised
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("store_id", "exit_id", name="uq_checkout_charges_store_exit"),)
