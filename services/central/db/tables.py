"""Every table of the central database, as SQLAlchemy 2 ``Mapped`` classes.

Wire shapes live in ``services/central/api/schemas``; logic lives in ``ingest/``, ``review/``
and ``audit/``. Changing a table here needs an Alembic revision in ``../migrations/versions``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.central.db.types import JsonDoc, UtcDateTime

# Stable constraint names, so migrations can refer to them on both backends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventRow(Base):
    """One stored event: the contract envelope as received, plus when central received it."""

    __tablename__ = "events"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    schema_version: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(64))
    use_case: Mapped[str] = mapped_column(String(1))
    store_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    severity: Mapped[str] = mapped_column(String(16))
    review_required: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_events_store_occurred", "store_id", "occurred_at"),
        Index("ix_events_store_type_occurred", "store_id", "type", "occurred_at"),
        Index("ix_events_camera_occurred", "camera_id", "occurred_at"),
        Index("ix_events_occurred", "occurred_at"),
    )


class EventIdRow(Base):
    """Every stored event's id, once: the idempotency key of ingest and what review items and webhook
    deliveries refer to. A table of its own because on PostgreSQL ``events`` is partitioned by
    month (migration 0006), and a partitioned table's unique keys must include ``occurred_at``."""

    __tablename__ = "event_ids"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ReviewItem(Base):
    """An event that needs a human decision, and where that decision stands."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("event_ids.event_id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16))  # review.machine.State
    event_type: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    use_case: Mapped[str] = mapped_column(String(1))
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer)  # 0 = critical ... 3 = info, for ordering
    required_decisions: Mapped[int] = mapped_column(Integer)  # 1, or 2 under the two-person rule
    round: Mapped[int] = mapped_column(Integer, default=1)  # a new round starts after each escalation
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # Joined by id, not by a foreign key: on PostgreSQL ``events`` is partitioned by month and can
    # hold no unique key on event_id alone; the key lives in ``event_ids`` (see EventIdRow).
    event: Mapped[EventRow] = relationship(
        primaryjoin="ReviewItem.event_id == EventRow.event_id", foreign_keys="ReviewItem.event_id",
        lazy="joined", innerjoin=True, viewonly=True,
    )
    decisions: Mapped[list[ReviewDecision]] = relationship(
        back_populates="item", order_by="ReviewDecision.id", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_review_items_queue", "state", "severity_rank", "deadline"),
        Index("ix_review_items_store_state", "store_id", "state"),
    )


class ReviewDecision(Base):
    """One reviewer's decision on a review item (two of them under the two-person rule)."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    review_item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("review_items.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    decision: Mapped[str] = mapped_column(String(16))  # confirm | dismiss | escalate
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    item: Mapped[ReviewItem] = relationship(back_populates="decisions")


class AuditEntry(Base):
    """One link of the hash chain; see ``services.central.audit.chain``."""

    __tablename__ = "audit_log"

    # Assigned by the appender (last + 1), never by a sequence: a gap means a deleted entry.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(256))
    # Plain JSON (text), not JSONB: the stored text round-trips exactly, so the hash does too.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ApiKey(Base):
    """An API key: only the sha256 of its secret is stored; the secret is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    store_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


# --------------------------------------------------------------------------- operations (issue 6)


class IngestDeadLetter(Base):
    """A message central could not ingest (not JSON, not a valid event, wrong topic for its store):
    kept with the reason for an operator instead of crashing or blocking ingest."""

    __tablename__ = "ingest_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transport: Mapped[str] = mapped_column(String(16))  # mqtt | http
    topic: Mapped[str | None] = mapped_column(String(512), nullable=True)
    reason: Mapped[str] = mapped_column(String(64))  # not_json | invalid_event | topic_mismatch | ...
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # as received (bounded by the broker's size limit)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EdgeStatusRow(Base):
    """Latest health report of one edge worker (one camera): outbox depth, inference latency."""

    __tablename__ = "edge_status"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    outbox_depth: Mapped[int] = mapped_column(Integer)
    dead_letters: Mapped[int] = mapped_column(Integer)
    oldest_age_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    inference_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Webhook(Base):
    """An integrator's webhook subscription. The signing secret is never stored: it is derived
    from ``ANSHIN_WEBHOOK_SECRET_KEY`` and this row's ``salt`` (see ``webhooks/signing.py``)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)  # empty: every type
    store_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: every store
    salt: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))  # API key name that created it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One event to send to one webhook: pending → delivered, or dead after the last retry."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(Integer, ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event_ids.event_id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_state", "webhook_id", "state"),
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
    )


# --------------------------------------------------------------------------- dashboard (issue 3)


class UserRow(Base):
    """A person who signs in to the dashboard. Only an argon2 hash of the password is stored.

    In the audit chain and in review decisions a user is ``user:<id>``, never their name, so the
    chain holds no personal data (see ``services.central.users``).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # users.roles.Role
    store_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: every store
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)  # ja | en; None: the store's default
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row; 0 after a success
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # too many failures; a manager unlocks


class SignInFailure(Base):
    """Failed sign-ins of one account (``user:<id>``, or ``user:unknown`` for names that do not
    exist) in one window; summarised in one ``auth.failed`` audit entry when the window closes
    (see ``services.central.users.signin``)."""

    __tablename__ = "sign_in_failures"

    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    name_digests: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # unknown names: sha256, never the name


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, this row only its sha256."""

    __tablename__ = "user_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # sent back in forms and htmx headers
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    user: Mapped[UserRow] = relationship(lazy="joined", innerjoin=True)


class StoreRow(Base):
    """A store's privacy profile and country (the dashboard's default language follows it)."""

    __tablename__ = "stores"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    privacy_profile: Mapped[str] = mapped_column(String(16))  # minimal | standard | identified
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2, e.g. JP
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SnapshotRow(Base):
    """An uploaded JPEG (evidence of an alert, or a camera's live picture); the bytes live in
    ``{data_dir}/snapshots/<sha256>.jpg``, addressed by their digest. The same picture may be both
    (a still camera), hence one row per kind."""

    __tablename__ = "snapshots"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # evidence | live
    store_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)  # pixels
    height: Mapped[int] = mapped_column(Integer)  # pixels
    size_bytes: Mapped[int] = mapped_column(Integer)
    anonymised: Mapped[bool] = mapped_column(Boolean)  # heads/faces blurred on the edge before upload
    uploaded_by: Mapped[str] = mapped_column(String(128))  # API key name
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_snapshots_camera_kind", "store_id", "camera_id", "kind", "created_at"),)


# --------------------------------------------------------------------------- commands (issue 9)


class CommandRow(Base):
    """A command central issued to one device in a store (``services.contract.commands.Command``),
    and the latest status the device reported for it."""

    __tablename__ = "commands"

    command_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    schema_version: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    issued_by: Mapped[str] = mapped_column(String(128))  # API key name or user:<id>
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    review_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the decision it rests on
    status: Mapped[str] = mapped_column(String(16))  # pending, then the device's latest CommandStatus
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # sent over MQTT
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_commands_device_status", "store_id", "device_id", "status", "issued_at"),
        Index("ix_commands_issued", "issued_at"),
    )


class CommandResultRow(Base):
    """One ack or result a device sent for a command (MQTT ``_cmd_result`` or HTTP); one row per
    status, so a redelivered report is stored once."""

    __tablename__ = "command_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    command_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("commands.command_id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # contract CommandStatus
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)  # the device's clock
    transport: Mapped[str] = mapped_column(String(16))  # mqtt | http
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("command_id", "status", name="uq_command_results_command_status"),)
