"""A device's HTTP command channel, for stores without a broker: long-poll central for commands,
post each ack and result back.

``GET /api/v1/commands/poll`` answers as soon as a command waits (else after ``wait_s``) with
every unfinished, unexpired command of the device; the receiver runs new ones and answers
repeats from its ledger (``duplicate``), so a result whose POST was lost is delivered with the
next poll. Central unreachable or answering 5xx/429: back off and poll again.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any, Protocol

import httpx

from edge.commands.receiver import CommandReceiver
from services.contract.commands import Command, CommandResult, CommandStatus

log = logging.getLogger(__name__)

POLL_PATH = "/api/v1/commands/poll"


class HttpLike(Protocol):
    """What the channel needs of an HTTP client (``httpx.Client``, or a test client)."""

    def get(self, url: str, **kwargs: Any) -> httpx.Response: ...

    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...


class HttpCommandChannel:
    """Feeds a :class:`CommandReceiver` from central's long-poll and posts its reports.

    Args:
        receiver: runs the commands.
        url: central's base URL (ignored when ``client`` is given with its own base URL).
        api_key: bearer key with scope ``commands:device`` (or ``events:write``), bound to the store.
        wait_s: how long one poll waits for a command (central caps it).
        retry_initial_s, retry_max_s: backoff bounds after errors, seconds.
        client: an HTTP client to use instead of a new ``httpx.Client``.
    """

    def __init__(self, receiver: CommandReceiver, url: str = "", api_key: str = "", *, wait_s: float = 20.0,
                 retry_initial_s: float = 0.5, retry_max_s: float = 30.0, client: HttpLike | None = None) -> None:
        self.receiver = receiver
        self.wait_s = wait_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client: HttpLike = client or httpx.Client(base_url=url, timeout=httpx.Timeout(10.0, read=wait_s + 15))
        self._owns_client = client is None

    def close(self) -> None:
        if self._owns_client and isinstance(self._client, httpx.Client):
            self._client.close()

    def _post(self, result: CommandResult) -> None:
        response = self._client.post(f"/api/v1/commands/{result.command_id}/result",
                                     content=result.model_dump_json(), headers=self._headers | {"Content-Type": "application/json"})
        if response.status_code != 200:
            raise RuntimeError(f"central answered {response.status_code} to the {result.status.value} report of "
                               f"{result.command_id}: {response.text[:500]}")

    def poll_once(self, wait_s: float | None = None) -> list[CommandResult]:
        """One long-poll: run what came, post the reports; return them (raises on a failed poll)."""
        params = {"store_id": self.receiver.store_id, "device_id": self.receiver.device_id,
                  "wait_s": self.wait_s if wait_s is None else wait_s}
        response = self._client.get(POLL_PATH, params=params, headers=self._headers)
        if response.status_code != 200:
            raise RuntimeError(f"central answered {response.status_code} to the command poll: {response.text[:500]}")
        reports: list[CommandResult] = []
        for doc in response.json()["data"]:
            reports += self.receiver.receive(Command.model_validate(doc), self._post)
        return reports

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, backing off (with jitter) after errors and after polls that
        brought only repeats (central has not taken their reports: avoid a hot loop)."""
        failures = 0
        while not stop.is_set():
            try:
                reports = self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling; central may be back soon
                failures += 1
                delay = min(self.retry_max_s, self.retry_initial_s * 2 ** min(failures - 1, 10))
                log.warning("command poll failed (%s: %s); retry in %.1f s", type(exc).__name__, exc, delay)
                stop.wait(delay * random.uniform(0.5, 1.0))
                continue
            failures = 0
            if reports and all(r.status is CommandStatus.DUPLICATE for r in reports):
                stop.wait(self.retry_initial_s)
