"""A local fake payment provider that behaves like a real one, for tests and the demo.

* Authentication: every request needs ``Authorization: Bearer <secret key>`` (401 otherwise).
* Tokens: ``POST /v1/tokens {card_number}`` returns ``tok_...``; only the provider keeps the card.
* Charges: ``POST /v1/charges {token, amount, currency}`` needs an ``Idempotency-Key`` header. The
  same key with the same body replays the first answer (``Idempotent-Replayed: true``), with a
  different body it is a 409. A card ending in ``0002`` is declined (402 ``card_declined``), as
  test cards are at real providers; amounts over 1,000,000 yen are declined (``amount_too_large``).
* Refunds: ``POST /v1/refunds {charge, amount?}``, idempotent the same way; never more than charged.

:func:`running_provider` serves it on a free local port in a thread (uvicorn).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

DECLINED_SUFFIX = "0002"
MAX_AMOUNT = 1_000_000


@dataclass
class Ledger:
    """The provider's memory: what tests look at (charges actually made)."""

    tokens: dict[str, str] = field(default_factory=dict)  # token -> last 4 digits
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)  # key -> (body sha, status, answer)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"error": {"code": code, "message": message}})


def create_app(secret_key: str, ledger: Ledger | None = None) -> FastAPI:
    """The provider's API; ``app.state.ledger`` holds its state."""
    app = FastAPI(title="fake payment provider")
    book = ledger or Ledger()
    app.state.ledger = book

    def authenticate(authorization: str | None) -> None:
        book.requests += 1
        if not authorization or not secrets.compare_digest(authorization, f"Bearer {secret_key}"):
            raise _error(401, "unauthenticated", "missing or wrong API key")

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            doc = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _error(400, "invalid_json", "body is not JSON") from None
        if not isinstance(doc, dict):
            raise _error(400, "invalid_json", "body must be an object")
        return doc

    def idempotent(key: str | None, body: dict[str, Any], make) -> JSONResponse:  # noqa: ANN001 - () -> (status, answer)
        if not key or len(key) > 255:
            raise _error(400, "idempotency_key_required", "send an Idempotency-Key header (1-255 characters)")
        sha = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with book.lock:
            if key in book.idempotency:
                seen_sha, status, answer = book.idempotency[key]
                if seen_sha != sha:
                    raise _error(409, "idempotency_key_reused", "this Idempotency-Key was used with another body")
                return JSONResponse(answer, status, headers={"Idempotent-Replayed": "true"})
            status, answer = make()
            book.idempotency[key] = (sha, status, answer)
            return JSONResponse(answer, status)

    @app.post("/v1/tokens")
    async def tokens(request: Request, authorization: str | None = Header(None)) -> dict[str, str]:
        authenticate(authorization)
        card = str((await body_of(request)).get("card_number", ""))
        if not card.isdigit() or not 12 <= len(card) <= 19:
            raise _error(400, "invalid_card", "card_number must be 12-19 digits")
        token = f"tok_{secrets.token_hex(8)}"
        book.tokens[token] = card[-4:]
        return {"id": token, "last4": card[-4:]}

    @app.post("/v1/charges")
    async def charges(request: Request, authorization: str | None = Header(None),
                      idempotency_key: str | None = Header(None)) -> JSONResponse:
        authenticate(authorization)
        body = await body_of(request)
        token, amount = body.get("token"), body.get("amount")
        if token not in book.tokens:
            raise _error(400, "invalid_token", "unknown token")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or body.get("currency") != "jpy":
            raise _error(400, "invalid_amount", "amount must be a positive integer of yen (currency jpy)")

        def make() -> tuple[int, dict[str, Any]]:
            if book.tokens[token] == DECLINED_SUFFIX or amount > MAX_AMOUNT:
                code = "card_declined" if book.tokens[token] == DECLINED_SUFFIX else "amount_too_large"
                return 402, {"error": {"code": code, "message": "the card was declined"}}
            charge = {"id": f"ch_{secrets.token_hex(8)}", "amount": amount, "currency": "jpy", "status": "succeeded",
                      "token": token, "refunded": 0, "created": time.time()}
            book.charges[charge["id"]] = charge
            return 200, charge

        return idempotent(idempotency_key, body, make)

    @app.post("/v1/refunds")
    async def refunds(request: Request, authorization: str | None = Header(None),
                      idempotency_key: str | None = Header(None)) -> JSONResponse:
        authenticate(authorization)
        body = await body_of(request)
        charge = book.charges.get(str(body.get("charge")))
        if charge is None:
            raise _error(404, "no_such_charge", "unknown charge")
        amount = body.get("amount", charge["amount"] - charge["refunded"])
        if not isinstance(amount, int) or amount <= 0 or charge["refunded"] + amount > charge["amount"]:
            raise _error(400, "invalid_amount", "refund must be positive and at most what is left of the charge")

        def make() -> tuple[int, dict[str, Any]]:
            charge["refunded"] += amount
            refund = {"id": f"re_{secrets.token_hex(8)}", "charge": charge["id"], "amount": amount, "status": "succeeded"}
            book.refunds[refund["id"]] = refund
            return 200, refund

        return idempotent(idempotency_key, body, make)

    @app.get("/v1/charges/{charge_id}")
    def get_charge(charge_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        authenticate(authorization)
        if charge_id not in book.charges:
            raise _error(404, "no_such_charge", "unknown charge")
        return book.charges[charge_id]

    @app.exception_handler(HTTPException)
    async def as_json(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(exc.detail, exc.status_code)

    return app


@dataclass(frozen=True)
class RunningProvider:
    url: str
    secret_key: str
    ledger: Ledger


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_provider(secret_key: str | None = None) -> Iterator[RunningProvider]:
    """The fake provider on ``127.0.0.1:<free port>`` for the ``with`` block."""
    import uvicorn

    key = secret_key or f"sk_test_{secrets.token_hex(12)}"
    app = create_app(key)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="fake-payment-provider", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake payment provider did not start")
        time.sleep(0.02)
    try:
        yield RunningProvider(f"http://127.0.0.1:{port}", key, app.state.ledger)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
