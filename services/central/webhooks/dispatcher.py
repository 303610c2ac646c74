"""Send pending webhook deliveries: signed POST, retry with exponential backoff, dead after the last try.

Several dispatchers may run (one per replica): each claims due deliveries under
``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's write lock serialises) and leases them by moving
``next_attempt_at`` past the send timeout, so a dispatcher that dies mid-send only delays them.
Delivery is at least once: a receiver deduplicates by ``X-Anshin-Delivery-Id`` or the event id.

Headers of each POST: ``Content-Type: application/json``, ``X-Anshin-Signature: t=..,v1=..``
(see :mod:`services.central.webhooks.signing`), ``X-Anshin-Event-Id``, ``X-Anshin-Event-Type``,
``X-Anshin-Delivery-Id``, ``X-Anshin-Attempt``. Body: the event envelope, contract v1.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import select

from services.central.db.session import Database
from services.central.db.tables import EventRow, Webhook, WebhookDelivery
from services.central.metrics import WEBHOOK_ATTEMPTS
from services.central.settings import Settings
from services.central.webhooks.signing import SIGNATURE_HEADER, derive_secret, sign
from services.central.webhooks.targets import TargetRefused, parse_allowlist, resolve
from services.contract import Event

log = logging.getLogger(__name__)


def event_body(row: EventRow) -> bytes:
    """The stored event as its contract v1 JSON (what integrators validate against)."""
    event = Event.model_validate({
        "event_id": row.event_id, "schema_version": row.schema_version, "type": row.type,
        "use_case": row.use_case, "store_id": row.store_id, "camera_id": row.camera_id,
        "occurred_at": row.occurred_at, "payload": row.payload, "evidence": row.evidence,
        "explanation": row.explanation, "severity": row.severity, "review_required": row.review_required,
    })
    return event.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: int
    attempt: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


def backoff_s(attempts: int, initial_s: float, max_s: float, jitter: float) -> float:
    """Delay before the next try after ``attempts`` failures; ``jitter`` in [0, 1) takes 50-100 %.

    >>> [backoff_s(n, 5.0, 60.0, 1.0) for n in (1, 2, 3, 5)], backoff_s(1, 5.0, 60.0, 0.0)
    ([5.0, 10.0, 20.0, 60.0], 2.5)
    """
    return min(max_s, initial_s * 2 ** min(attempts - 1, 30)) * (0.5 + 0.5 * jitter)


class WebhookDispatcher:
    """Args: db, settings (master key, attempts, backoff, timeout, allowlist), client and resolver
    (``socket.getaddrinfo``'s signature; tests may inject both), batch size."""

    def __init__(self, db: Database, settings: Settings, client: httpx.Client | None = None, batch: int = 50,
                 rng: random.Random | None = None, resolver: Callable[..., Any] | None = None) -> None:
        if settings.webhook_secret_key is None:
            raise RuntimeError("webhooks need ANSHIN_WEBHOOK_SECRET_KEY (at least 32 characters) in the environment")
        self.master_key = settings.webhook_secret_key.get_secret_value()
        derive_secret(self.master_key, "check")  # fail now on a short key
        self.db = db
        self.settings = settings
        self.allow = parse_allowlist(settings.webhook_allow_hosts)
        self._resolver = resolver
        self.batch = batch
        self._rng = rng or random.Random()
        self._client = client or httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def run(self, stop: threading.Event, idle_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # noqa: BLE001 - database away: try again shortly
                log.exception("webhook dispatch failed; retrying")
                sent = 0
            if sent == 0:
                stop.wait(idle_s)

    def run_once(self) -> int:
        """Claim due deliveries, POST them, record the outcomes; returns how many were attempted."""
        jobs = self._claim(datetime.now(timezone.utc))
        outcomes = [(job, *self._post(job)) for job in jobs]
        if outcomes:
            self._record(outcomes, datetime.now(timezone.utc))
        return len(jobs)

    def _claim(self, now: datetime) -> list[_Job]:
        lease = now + timedelta(seconds=2 * self.settings.webhook_timeout_s + 30)
        with self.db.unit_of_work() as s:
            q = (select(WebhookDelivery, Webhook, EventRow)
                 .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                 .join(EventRow, EventRow.event_id == WebhookDelivery.event_id)
                 .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
                 .order_by(WebhookDelivery.next_attempt_at).limit(self.batch))
            if self.db.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True, of=WebhookDelivery)
            jobs = []
            for delivery, hook, event in s.execute(q).all():
                delivery.next_attempt_at = lease
                jobs.append(_Job(delivery.id, delivery.attempts + 1, hook.url, derive_secret(self.master_key, hook.salt),
                                 str(event.event_id), event.type, event_body(event)))
        return jobs

    def _post(self, job: _Job) -> tuple[bool, int | None, str | None]:
        """POST one delivery to the address its host resolves to now, after checking it (SSRF).

        Only the status line of the answer is kept: an integrator reads it back through the API,
        and an answer's body is none of their business if the URL was pointed somewhere else.
        """
        try:
            target = resolve(job.url, self.allow, self._resolver)
        except TargetRefused as exc:
            return False, None, f"refused: {exc}"[:1000]
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(job.secret, job.body),
            "X-Anshin-Event-Id": job.event_id,
            "X-Anshin-Event-Type": job.event_type,
            "X-Anshin-Delivery-Id": str(job.delivery_id),
            "X-Anshin-Attempt": str(job.attempt),
            "User-Agent": "anshin-webhooks/1",
            "Host": target.host_header,
        }
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        try:  # to the checked address: a second DNS answer (rebinding) is never asked for
            response = self._client.post(target.url, content=job.body, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            return False, None, f"{type(exc).__name__}: {exc}"[:1000]
        if 200 <= response.status_code < 300:
            return True, response.status_code, None
        return False, response.status_code, f"HTTP {response.status_code} {response.reason_phrase}"[:200]

    def _record(self, outcomes: list[tuple[_Job, bool, int | None, str | None]], now: datetime) -> None:
        with self.db.unit_of_work() as s:
            for job, ok, status, error in outcomes:
                d = s.get(WebhookDelivery, job.delivery_id)
                if d is None or d.state != "pending":
                    continue
                d.attempts = job.attempt
                d.last_status = status
                d.last_error = error
                if ok:
                    d.state, d.finished_at = "delivered", now
                    WEBHOOK_ATTEMPTS.labels("delivered").inc()
                elif job.attempt >= self.settings.webhook_max_attempts:
                    d.state, d.finished_at = "dead", now
                    WEBHOOK_ATTEMPTS.labels("dead").inc()
                    log.error("webhook delivery %d (event %s) dead after %d attempts: %s",
                              d.id, job.event_id, job.attempt, error)
                else:
                    delay = backoff_s(job.attempt, self.settings.webhook_retry_initial_s,
                                      self.settings.webhook_retry_max_s, self._rng.random())
                    d.next_attempt_at = now + timedelta(seconds=delay)
                    WEBHOOK_ATTEMPTS.labels("failed").inc()
