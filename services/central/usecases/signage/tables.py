"""Use case C's tables: calls from store signage to remote staff, and the mailbox that carries
signalling (SDP offers/answers), holds, pushed content and announcements to each side.

Central only relays signalling: the audio and video go browser to browser (WebRTC), never
through these tables or through central.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.central.db.tables import Base
from services.central.db.types import JsonDoc, UtcDateTime


class SignageCall(Base):
    """One customer's call from a store's signage: waiting, active, held, ended or abandoned."""

    __tablename__ = "signage_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(128))  # the signage key's name (a device, never a person)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # first taken
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # created → first taken (summed by the figures)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    signage_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)  # last poll of the signage (abandonment)
    staff: Mapped[str | None] = mapped_column(String(128), nullable=True)  # user name serving it now
    assigned_to: Mapped[str | None] = mapped_column(String(128), nullable=True)  # transferred to this colleague
    phone_token_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # phone link secret, hashed
    phone_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # continued on the customer's phone
    epoch: Mapped[int] = mapped_column(Integer, default=0)  # media session number: stale signalling is ignored

    __table_args__ = (Index("ix_signage_calls_store_state", "store_id", "state"),)


class SignageMessage(Base):
    """One message to a store's signage (``to_side='signage'``) or to the staff serving a call
    (``to_side='staff'``); clients read theirs by increasing id (``?after=``)."""

    __tablename__ = "signage_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("signage_calls.id", ondelete="CASCADE"), nullable=True)
    to_side: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_signage_messages_store_side", "store_id", "to_side", "id"),)
