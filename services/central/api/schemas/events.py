"""Event shapes: ingest acknowledgement and stored events."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.central.api.schemas.common import Out
from services.contract import Evidence, Explanation, Severity, UseCase


class IngestOut(Out):
    """Both lists are acknowledged: the sender deletes exactly these ids from its outbox."""

    stored: list[UUID]
    duplicates: list[UUID]


class EventOut(Out):
    """A stored event: the contract v1 envelope plus ``received_at`` (central's clock, UTC)."""

    event_id: UUID
    schema_version: str
    type: str
    use_case: UseCase
    store_id: str
    camera_id: str
    occurred_at: datetime
    payload: dict[str, Any]
    evidence: Evidence | None
    explanation: Explanation | None
    severity: Severity
    review_required: bool
    received_at: datetime
