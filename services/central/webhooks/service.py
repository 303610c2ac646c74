"""Webhook subscriptions and their delivery queue (database side; no HTTP here).

A delivery row per (webhook, stored event) is written in the ingest transaction
(:func:`enqueue`), so an event is never stored without its deliveries, and redelivered events
(duplicates) never enqueue twice. :mod:`services.central.webhooks.dispatcher` sends them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import Webhook, WebhookDelivery
from services.central.webhooks.signing import derive_secret
from services.central.webhooks.targets import TargetRefused, check_url
from services.contract import Event

STATES = ("pending", "delivered", "dead")
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class WebhookError(ValueError):
    """A webhook cannot be created or changed as asked; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class WebhookNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    row: Webhook
    secret: str  # shown once


def _check(name: str, url: str, event_types: Sequence[str], allow: Sequence[str]) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", name):
        raise WebhookError("name", "1-128 letters, digits, '_', '.', '-', starting with a letter or digit")
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url) or len(url) > 2048:
        raise WebhookError("url", "must be an http:// or https:// URL of at most 2048 characters")
    try:
        check_url(url, allow)  # internal addresses are refused (SSRF); checked again at each delivery
    except TargetRefused as exc:
        raise WebhookError("url", str(exc)) from None
    for i, t in enumerate(event_types):
        if not _TYPE.fullmatch(t):
            raise WebhookError(f"event_types.{i}", f"{t!r} is not an event type such as 'zone.overcrowded'")


def create(
    session: Session, master_key: str | None, name: str, url: str, event_types: Sequence[str],
    store_id: str | None, owner: str, allow: Sequence[str] = (),
) -> CreatedWebhook:
    """Create a webhook, audit it (the caller commits), return it with its secret.

    ``allow`` is the operator's allowlist (``Settings.webhook_allow_hosts``); without it a URL
    naming an internal address is refused (:mod:`.targets`).
    """
    if not master_key:
        raise WebhookError("server", "webhooks are disabled: set ANSHIN_WEBHOOK_SECRET_KEY on central")
    _check(name, url, event_types, allow)
    if session.scalar(select(Webhook.id).where(Webhook.name == name)) is not None:
        raise WebhookError("name", f"a webhook named {name!r} already exists")
    salt = secrets.token_hex(16)
    row = Webhook(name=name, url=url, event_types=sorted(set(event_types)), store_id=store_id, salt=salt,
                  owner=owner, active=True, created_at=datetime.now(timezone.utc))
    session.add(row)
    session.flush()
    audit.append(session, owner, "webhook.create", f"webhook:{row.id}",
                 {"webhook_id": row.id, "name": name, "event_types": row.event_types, "store_id": store_id})
    return CreatedWebhook(row, derive_secret(master_key, salt))


def rotate(session: Session, master_key: str | None, webhook_id: int, actor: str, store_id: str | None = None) -> CreatedWebhook:
    """New salt, so a new secret; the old one stops verifying at once."""
    if not master_key:
        raise WebhookError("server", "webhooks are disabled: set ANSHIN_WEBHOOK_SECRET_KEY on central")
    row = get(session, webhook_id, store_id)
    row.salt = secrets.token_hex(16)
    audit.append(session, actor, "webhook.rotate", f"webhook:{row.id}", {"webhook_id": row.id})
    return CreatedWebhook(row, derive_secret(master_key, row.salt))


def get(session: Session, webhook_id: int, store_id: str | None = None) -> Webhook:
    row = session.get(Webhook, webhook_id)
    if row is None or not row.active or (store_id is not None and row.store_id != store_id):
        raise WebhookNotFound(f"no webhook {webhook_id}")
    return row


def list_active(session: Session, store_id: str | None = None) -> list[Webhook]:
    q = select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)
    if store_id is not None:
        q = q.where(Webhook.store_id == store_id)
    return list(session.scalars(q))


def delete(session: Session, webhook_id: int, actor: str, store_id: str | None = None) -> None:
    """Deactivate (kept for the audit trail); its pending deliveries are dropped."""
    row = get(session, webhook_id, store_id)
    row.active = False
    session.execute(update(WebhookDelivery).where(
        WebhookDelivery.webhook_id == row.id, WebhookDelivery.state == "pending").values(state="dead", last_error="webhook deleted"))
    audit.append(session, actor, "webhook.delete", f"webhook:{row.id}", {"webhook_id": row.id})


def matches(hook: Webhook, event: Event) -> bool:
    return (hook.store_id is None or hook.store_id == event.store_id) and (
        not hook.event_types or event.type in hook.event_types)


def enqueue(session: Session, events: Sequence[Event], now: datetime) -> int:
    """One pending delivery per (active webhook, newly stored event) that matches; the caller commits."""
    if not events:
        return 0
    hooks = list(session.scalars(select(Webhook).where(Webhook.active.is_(True))))
    rows = [
        WebhookDelivery(webhook_id=h.id, event_id=e.event_id, state="pending", attempts=0, next_attempt_at=now, created_at=now)
        for e in events for h in hooks if matches(h, e)
    ]
    session.add_all(rows)
    return len(rows)


def deliveries(
    session: Session, webhook_id: int, state: str | None, limit: int, offset: int
) -> tuple[list[WebhookDelivery], int]:
    cond = [WebhookDelivery.webhook_id == webhook_id] + ([WebhookDelivery.state == state] if state else [])
    total = session.scalar(select(func.count()).select_from(WebhookDelivery).where(*cond)) or 0
    rows = session.scalars(select(WebhookDelivery).where(*cond).order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def retry_dead(session: Session, webhook_id: int, delivery_ids: Sequence[int] | None, actor: str) -> int:
    """Put dead deliveries back in the queue (after the integrator fixed their endpoint)."""
    cond = [WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state == "dead"]
    if delivery_ids is not None:
        cond.append(WebhookDelivery.id.in_(list(delivery_ids)))
    result = session.execute(update(WebhookDelivery).where(*cond).values(
        state="pending", attempts=0, next_attempt_at=datetime.now(timezone.utc), finished_at=None))
    n = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if n:
        audit.append(session, actor, "webhook.retry", f"webhook:{webhook_id}", {"webhook_id": webhook_id, "deliveries": n})
    return n
