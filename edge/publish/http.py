"""HTTP publisher: outbox → ``POST /api/v1/events`` on central, until acknowledged.

Rules it keeps:

* Only ids central acknowledged (``stored`` ∪ ``duplicates``) are deleted from the outbox.
  Central deduplicates by event id, so resending after a lost response is safe.
* Connection errors, timeouts, 5xx, 408 and 429 are transient: retry with exponential backoff
  and jitter (``Retry-After`` honoured). 401/403/404 mean a wrong key or URL: also retried (the
  events are fine; an operator fixes the config) but logged as errors.
* A batch rejected as invalid (400/413/422) is not retried as is: the events central names in a
  422 ``detail`` (``loc: ["body", i, ...]``) are isolated, otherwise the batch is halved until the
  bad event is alone; a single rejected event moves to the outbox's dead-letter table with the
  reason. Nothing is lost and one bad event never blocks the queue.
* One log line when central goes down (with the reason and the queue depth) and one when it is
  back, instead of a line per retry.
* An alert's evidence picture (queued next to it in the outbox) is uploaded first
  (``POST /api/v1/snapshots``); its reference goes into ``evidence.snapshot_ref`` before the event
  is sent. A picture central refuses (a ``minimal`` store, not a JPEG, too large) is dropped with
  an error line and the event goes without it: a picture never holds an alert back.
* The worker may offer a live picture of the camera now and then (:meth:`offer_live`); only the
  newest waits, it is sent when the queue is idle, and it is dropped on any failure.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import replace
from typing import Any

import httpx

from edge.outbox import Outbox, OutboxItem
from edge.publish.base import OutboxPublisher, PublisherStats, TransientError
from services.contract.events import MAX_BATCH, MAX_BODY_BYTES

log = logging.getLogger(__name__)

INGEST_PATH = "/api/v1/events"
SNAPSHOT_PATH = "/api/v1/snapshots"
STATUS_PATH = "/api/v1/edges/status"
_TRANSIENT_STATUS = {408, 425, 429}
_CONFIG_STATUS = {401, 403, 404, 405}  # wrong key, scope, store binding or URL: the events are fine
_REJECTED_STATUS = {400, 409, 413, 415, 422}  # the request content itself was refused


__all__ = ["HttpPublisher", "PublisherStats", "TransientError"]  # the last two live in base, re-exported


class HttpPublisher(OutboxPublisher):
    """Publishes the outbox to central over HTTP.

    Args:
        outbox: the durable queue to drain.
        url: central base URL, e.g. ``http://127.0.0.1:8000``.
        api_key: bearer key with scope ``events:write``.
        batch_size: events per POST (at most the contract's 500).
        connect_timeout_s, read_timeout_s: HTTP timeouts, seconds.
        retry_initial_s, retry_max_s: backoff bounds, seconds (doubling, "equal jitter": 50-100 %).
        idle_poll_s: how often an idle publisher looks at the outbox without being notified.
        rng: randomness for jitter (seed it in tests).
        transport: an httpx transport (tests may route to an in-process app).
    """

    _log = log

    def __init__(
        self,
        outbox: Outbox,
        url: str,
        api_key: str,
        *,
        batch_size: int = 100,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 15.0,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        idle_poll_s: float = 0.5,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}, got {batch_size}")
        super().__init__(outbox, batch_size=batch_size, retry_initial_s=retry_initial_s,
                         retry_max_s=retry_max_s, idle_poll_s=idle_poll_s, rng=rng)
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            transport=transport,
        )
        self._down_category: str | None = None
        self._failures_in_outage = 0
        self._live_lock = threading.Lock()
        self._live: tuple[str, str, bytes, bool] | None = None  # newest live picture waiting to be sent

    @classmethod
    def from_config(cls, outbox: Outbox, central: Any, **kwargs: Any) -> HttpPublisher:
        """Build from an :class:`edge.config.CentralConfig` (reads the API key from its env variable)."""
        return cls(
            outbox,
            central.url,
            central.api_key(),
            batch_size=central.batch_size,
            connect_timeout_s=central.connect_timeout_s,
            read_timeout_s=central.read_timeout_s,
            retry_initial_s=central.retry_initial_s,
            retry_max_s=central.retry_max_s,
            **kwargs,
        )

    def close(self) -> None:
        self._client.close()

    def _on_idle(self) -> None:
        self._send_live()

    # ------------------------------------------------------------------ one batch

    def publish_once(self) -> int:
        """Send the oldest batch; returns how many events left the queue (acked or dead-lettered).

        Raises:
            TransientError: central unreachable or refusing for now; nothing was deleted.
        """
        with self._send_lock:
            items = self.outbox.peek(self.batch_size)
            if not items:
                return 0
            items = self._fit_body_limit(items)
            try:
                done = self._deliver(items)
            except TransientError as exc:
                self._count_failure(items, exc.reason)
                self._went_down(exc)
                raise
            self._came_up()
            return done

    def _fit_body_limit(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """The longest prefix whose JSON array fits the contract's body limit (at least one item)."""
        total = 2
        for n, item in enumerate(items):
            total += len(item.body.encode()) + 1
            if total > MAX_BODY_BYTES and n > 0:
                return items[:n]
        return items

    def _deliver(self, items: list[OutboxItem]) -> int:
        """POST items; ack what central acknowledged; isolate and dead-letter rejected events."""
        if len(items) == 1 and len(items[0].body.encode()) + 2 > MAX_BODY_BYTES:
            self._dead_letter(items[0], f"event is larger than the {MAX_BODY_BYTES} byte request limit", None)
            return 1
        items = self._with_snapshots(items)
        response = self._post(items)
        status = response.status_code
        if status == 200:
            return self._ack(items, response)
        if status in _REJECTED_STATUS:
            return self._isolate_rejected(items, response)
        if status in _CONFIG_STATUS:
            raise TransientError(
                f"central refused the request: HTTP {status} {_detail(response)} "
                f"(check central.url and the API key's scope 'events:write' and store binding)",
                category=f"http-{status}",
            )
        retry_after = _retry_after(response)
        if status >= 500 or status in _TRANSIENT_STATUS:
            raise TransientError(f"central answered HTTP {status} {_detail(response)}", category="server", retry_after_s=retry_after)
        # Any other answer (1xx/3xx/other 4xx) is unexpected; keep the events and retry.
        raise TransientError(f"unexpected HTTP {status} from central: {_detail(response)}", category=f"http-{status}")

    def _post(self, items: list[OutboxItem]) -> httpx.Response:
        body = ("[" + ",".join(i.body for i in items) + "]").encode()
        started = time.perf_counter()
        try:
            self.stats.requests += 1
            return self._client.post(INGEST_PATH, content=body)
        except httpx.TransportError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc or 'no response'}", category="unreachable") from None
        finally:
            self.stats.post_seconds += time.perf_counter() - started

    def _ack(self, items: list[OutboxItem], response: httpx.Response) -> int:
        try:
            answer = response.json()
            acknowledged = {_norm(i) for i in answer.get("stored", [])} | {_norm(i) for i in answer.get("duplicates", [])}
            stored = {_norm(i) for i in answer.get("stored", [])}
        except (ValueError, AttributeError, TypeError):
            raise TransientError(f"central answered 200 without a stored/duplicates list: {response.text[:200]!r}", category="server") from None
        sent = {_norm(i.event_id): i.event_id for i in items}
        ids = [sent[i] for i in acknowledged if i in sent]
        deleted = self.outbox.ack(ids)
        self.stats.delivered += sum(1 for i in acknowledged if i in sent and i in stored)
        self.stats.duplicates += sum(1 for i in acknowledged if i in sent and i not in stored)
        missing = [i.event_id for i in items if _norm(i.event_id) not in acknowledged]
        if missing:  # should not happen; keep them queued and say so
            self.outbox.record_failure(missing, "central's 200 answer did not acknowledge this id")
            log.warning("central acknowledged %d of %d events; %d stay queued", len(ids), len(items), len(missing))
        return deleted

    def _isolate_rejected(self, items: list[OutboxItem], response: httpx.Response) -> int:
        status, detail = response.status_code, _detail(response)
        if len(items) == 1:
            self._dead_letter(items[0], f"HTTP {status}: {detail}", status)
            return 1
        named = _rejected_indices(response, len(items))
        if status == 422 and named:
            done = 0
            for index in sorted(named):
                self._dead_letter(items[index], f"HTTP 422: {_detail_for(response, index)}", status)
                done += 1
            rest = [item for k, item in enumerate(items) if k not in named]
            return done + (self._deliver(rest) if rest else 0)
        # Central did not say which event: halve until the bad one is alone (log2(n) extra requests).
        half = len(items) // 2
        return self._deliver(items[:half]) + self._deliver(items[half:])

    # ------------------------------------------------------------------ pictures

    def _with_snapshots(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Upload the evidence pictures waiting for these events; return the items with the
        references in their bodies. Raises TransientError (nothing lost) when central is away."""
        pictures = self.outbox.blobs_for(i.event_id for i in items)
        if not pictures:
            return items
        out = []
        for item in items:
            picture = pictures.get(item.event_id)
            if picture is None:
                out.append(item)
                continue
            body = self._upload_evidence(item, *picture)
            self.outbox.attach_snapshot(item.event_id, body)  # uploaded or given up: never again
            out.append(replace(item, body=body) if body is not None else item)
        return out

    def _upload_evidence(self, item: OutboxItem, jpeg: bytes, anonymised: bool) -> str | None:
        """The event body with ``evidence.snapshot_ref`` set, or None when central refused the picture."""
        doc = json.loads(item.body)
        response = self._upload(jpeg, doc["store_id"], doc["camera_id"], "evidence", anonymised)
        if response.status_code == 200:
            doc["evidence"] = {**(doc.get("evidence") or {}), "snapshot_ref": response.json()["snapshot_ref"]}
            self.stats.extra["snapshots_uploaded"] = self.stats.extra.get("snapshots_uploaded", 0) + 1
            return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        detail = _detail(response)
        if response.status_code in (401, 404, 405) or (response.status_code == 403 and "privacy profile" not in detail):
            raise TransientError(f"central refused the evidence upload: HTTP {response.status_code} {detail} "
                                 "(check central.url and the API key's scope and store binding)",
                                 category=f"http-{response.status_code}")
        if response.status_code >= 500 or response.status_code in _TRANSIENT_STATUS:
            raise TransientError(f"evidence upload: HTTP {response.status_code} {detail}", category="server",
                                 retry_after_s=_retry_after(response))
        self.stats.extra["snapshots_dropped"] = self.stats.extra.get("snapshots_dropped", 0) + 1
        log.error("event %s: central refused its evidence picture (HTTP %d: %s); sending the event without it",
                  item.event_id, response.status_code, detail)
        return None

    def _upload(self, jpeg: bytes, store_id: str, camera_id: str, kind: str, anonymised: bool) -> httpx.Response:
        params = {"store_id": store_id, "camera_id": camera_id, "kind": kind, "anonymised": str(anonymised).lower()}
        try:
            return self._client.post(SNAPSHOT_PATH, content=jpeg, params=params, headers={"Content-Type": "image/jpeg"})
        except httpx.TransportError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc or 'no response'}", category="unreachable") from None

    def offer_live(self, store_id: str, camera_id: str, jpeg: bytes, anonymised: bool = True) -> None:
        """Hand over the camera's newest live picture (replaces one not sent yet); never blocks."""
        with self._live_lock:
            self._live = (store_id, camera_id, jpeg, anonymised)

    def _send_live(self) -> None:
        with self._live_lock:
            live, self._live = self._live, None
        if live is None:
            return
        try:
            response = self._upload(live[2], live[0], live[1], "live", live[3])
        except TransientError as exc:
            log.debug("live picture not sent: %s", exc.reason)
            return
        key = "live_uploaded" if response.status_code == 200 else "live_refused"
        self.stats.extra[key] = self.stats.extra.get(key, 0) + 1
        if response.status_code != 200:
            log.debug("live picture refused: HTTP %d %s", response.status_code, _detail(response))

    def send_status(self, status: Any) -> None:
        """POST an edge status report (``services.contract.EdgeStatus``) to central; failures are the caller's to skip."""
        response = self._client.post(STATUS_PATH, content=status.model_dump_json())
        if response.status_code != 200:
            log.debug("edge status refused: HTTP %d %s", response.status_code, _detail(response))

    def _dead_letter(self, item: OutboxItem, reason: str, status: int | None) -> None:
        if self.outbox.dead_letter(item.event_id, reason, status):
            self.stats.dead_lettered += 1
            log.error("event %s moved to the dead-letter table: %s", item.event_id, reason)

    # ------------------------------------------------------------------ connectivity log

    def _went_down(self, exc: TransientError) -> None:
        self._failures_in_outage += 1
        if self._down_category == exc.category:
            log.debug("central still unavailable: %s", exc.reason)
            return
        self._went_offline()
        self._down_category = exc.category
        level = logging.ERROR if exc.category.startswith("http-4") else logging.WARNING
        self._log_outage(level, f"central {self.url} unavailable", exc.reason)

    def _came_up(self) -> None:
        super()._came_up()
        self._down_category = None
        self._failures_in_outage = 0

    def _log_back_up(self, outage_s: float) -> None:
        log.warning(
            "central %s reachable again after %.1f s (%d failed attempts); %d events still queued",
            self.url, outage_s, self._failures_in_outage, self.outbox.depth(),
        )

    def _log_first_contact(self) -> None:
        log.info("publishing to central %s", self.url)


def _norm(event_id: Any) -> str:
    return str(event_id).strip().lower()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    text = detail if isinstance(detail, str) else json.dumps(detail)[:1000]
    return text


def _rejected_indices(response: httpx.Response, n: int) -> set[int]:
    """Indices of the batch a 422 names in ``detail[*].loc == ["body", i, ...]``."""
    try:
        detail = response.json().get("detail", [])
    except (ValueError, AttributeError):
        return set()
    indices: set[int] = set()
    for err in detail if isinstance(detail, list) else []:
        loc = err.get("loc", []) if isinstance(err, dict) else []
        if len(loc) >= 2 and loc[0] == "body" and isinstance(loc[1], int) and 0 <= loc[1] < n:
            indices.add(loc[1])
    return indices


def _detail_for(response: httpx.Response, index: int) -> str:
    detail = response.json().get("detail", [])
    mine = [e for e in detail if isinstance(e, dict) and len(e.get("loc", [])) >= 2 and e["loc"][1] == index]
    return json.dumps(mine)[:1000]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
