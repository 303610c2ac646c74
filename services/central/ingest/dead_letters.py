"""Messages central could not ingest, kept with the reason (and counted) instead of crashing ingest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.central.db.tables import IngestDeadLetter
from services.central.metrics import DEAD_LETTERS

#: Reasons, as stored and as the ``reason`` label of ``anshin_ingest_dead_letters_total``.
REASONS = ("not_json", "invalid_event", "topic_mismatch", "bad_topic", "too_large", "store_failed")


@dataclass(frozen=True, slots=True)
class Rejected:
    """One message that will not be stored as an event."""

    transport: str
    topic: str | None
    reason: str  # one of REASONS
    detail: str
    payload: bytes


def record(session: Session, rejected: Sequence[Rejected], at: datetime) -> None:
    """Add dead letters in the caller's transaction (count them with :func:`count` after commit)."""
    session.add_all([
        IngestDeadLetter(
            transport=r.transport, topic=r.topic, reason=r.reason,
            detail=r.detail[:4000], payload=r.payload, received_at=at,
        )
        for r in rejected
    ])


def count(rejected: Sequence[Rejected]) -> None:
    """``anshin_ingest_dead_letters_total`` += each committed dead letter."""
    for r in rejected:
        DEAD_LETTERS.labels(r.transport, r.reason).inc()
