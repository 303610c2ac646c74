"""Operations shapes: edge status, ingest dead letters, webhooks and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from services.central.api.schemas.common import In, Out
from services.contract.events import Identifier


class EdgeStatusOut(Out):
    store_id: str
    camera_id: str
    outbox_depth: int
    dead_letters: int
    oldest_age_s: float | None
    inference_ms: float | None
    reported_at: datetime
    received_at: datetime


class DeadLetterOut(Out):
    """A message central could not ingest; ``payload`` is its start as text (invalid UTF-8 replaced)."""

    id: int
    transport: str
    topic: str | None
    reason: str
    detail: str
    payload: str
    payload_bytes: int
    received_at: datetime


class WebhookIn(In):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="unique; letters, digits, '_', '.', '-'")
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://[^\s/?#]+\S*$",
                     description="http(s) URL that receives POSTs")
    event_types: list[str] = Field(default_factory=list, max_length=100,
                                   description="only these event types; empty: all")
    store_id: Identifier | None = Field(default=None, description="only this store; a store-bound key may only name its own")

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        import re

        for t in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", t) or len(t) > 64:  # fullmatch: "$" passes "a.b\n"
                raise ValueError(f"{t!r} is not an event type such as 'zone.overcrowded'")
        return value


class WebhookOut(Out):
    id: int
    name: str
    url: str
    event_types: list[str]
    store_id: str | None
    owner: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="signing secret, shown once: verify X-Anshin-Signature with it")


class DeliveryOut(Out):
    id: int
    webhook_id: int
    event_id: UUID
    state: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class RetryIn(In):
    delivery_ids: list[int] | None = Field(default=None, max_length=1000, description="default: every dead delivery")


class RetryOut(Out):
    requeued: int
