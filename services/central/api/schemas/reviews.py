"""Review queue shapes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, ValidationInfo, field_validator

from services.central.api.schemas.common import In, Out
from services.central.api.schemas.events import EventOut
from services.central.review.machine import Decision, State
from services.contract import Severity, UseCase


class DecisionIn(In):
    """One reviewer's decision. A dismissal needs a ``reason``."""

    decision: Decision
    reason: str | None = Field(default=None, max_length=500, validate_default=True,
                               description="why; required for dismiss")
    note: str | None = Field(default=None, max_length=2000, description="free text for colleagues")

    @field_validator("reason")
    @classmethod
    def _dismissal_has_reason(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = (value or "").strip() or None
        if info.data.get("decision") == Decision.DISMISS and value is None:
            raise ValueError("a dismissal needs a reason, e.g. 'hot drink; clinical thermometer 36.6 °C'")
        return value


class DecisionOut(Out):
    round: int
    actor: str
    at: datetime
    decision: Decision
    reason: str | None
    note: str | None


class ReviewItemOut(Out):
    id: int
    event_id: UUID
    state: State
    type: str = Field(validation_alias="event_type")
    store_id: str
    camera_id: str
    use_case: UseCase
    severity: Severity
    deadline: datetime
    overdue: bool
    claimed_by: str | None
    claimed_at: datetime | None
    required_decisions: int = Field(description="2 under the two-person rule")
    round: int = Field(description="starts at 1; each escalation starts a new round")
    awaiting_second: bool = Field(description="a first decision is recorded; a different reviewer must decide")
    decisions: list[DecisionOut]
    created_at: datetime
    updated_at: datetime
    event: EventOut
