"""The payment adapter: card tokens, charges with idempotency keys, refunds, over HTTP.

Speaks the provider API of :mod:`.fake_provider` (Stripe-like). The exit id is the charge's
idempotency key, so a redelivered exit can never charge twice: the provider replays its first
answer. A dropped connection is retried with the same key, which is safe for the same reason.

Settings come from the environment: ``ANSHIN_CHECKOUT_PROVIDER_URL`` and ``ANSHIN_CHECKOUT_PROVIDER_KEY``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx


class PaymentError(Exception):
    """The provider refused the request or could not be reached; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class PaymentDeclined(PaymentError):
    """The card was declined: nobody is charged; staff settle the basket."""


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    amount_yen: int
    replayed: bool  # the provider answered from its idempotency record (a redelivery)


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    amount_yen: int


class PaymentAdapter:
    """One provider account. ``transport`` lets tests pass an in-process transport."""

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 10.0, retries: int = 1,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not base_url or not api_key:
            raise ValueError("the payment adapter needs ANSHIN_CHECKOUT_PROVIDER_URL and ANSHIN_CHECKOUT_PROVIDER_KEY")
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s, transport=transport,
                                    headers={"Authorization": f"Bearer {api_key}"})
        self._retries = retries

    @classmethod
    def from_env(cls) -> PaymentAdapter:
        return cls(os.environ.get("ANSHIN_CHECKOUT_PROVIDER_URL", ""), os.environ.get("ANSHIN_CHECKOUT_PROVIDER_KEY", ""))

    def close(self) -> None:
        self._client.close()

    def _post(self, path: str, body: dict, idempotency_key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        for attempt in range(self._retries + 1):
            try:
                return self._client.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:  # same key on retry: the provider does it at most once
                if attempt == self._retries or idempotency_key is None:
                    raise PaymentError("unreachable", f"payment provider unreachable: {exc}") from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _fail(response: httpx.Response) -> PaymentError:
        try:
            err = response.json().get("error", {})
        except ValueError:
            err = {}
        code, message = str(err.get("code", f"http_{response.status_code}")), str(err.get("message", response.text[:200]))
        return (PaymentDeclined if response.status_code == 402 else PaymentError)(code, message)

    def tokenize(self, card_number: str) -> str:
        """A token reference for a card (the card number goes to the provider only)."""
        r = self._post("/v1/tokens", {"card_number": card_number})
        if r.status_code != 200:
            raise self._fail(r)
        return str(r.json()["id"])

    def charge(self, token: str, amount_yen: int, idempotency_key: str) -> Charge:
        """Charge once per ``idempotency_key``; :class:`PaymentDeclined` on a decline."""
        r = self._post("/v1/charges", {"token": token, "amount": amount_yen, "currency": "jpy"}, idempotency_key)
        if r.status_code != 200:
            raise self._fail(r)
        doc = r.json()
        return Charge(str(doc["id"]), int(doc["amount"]), r.headers.get("Idempotent-Replayed") == "true")

    def refund(self, charge_id: str, idempotency_key: str, amount_yen: int | None = None) -> Refund:
        body: dict = {"charge": charge_id} | ({"amount": amount_yen} if amount_yen is not None else {})
        r = self._post("/v1/refunds", body, idempotency_key)
        if r.status_code != 200:
            raise self._fail(r)
        doc = r.json()
        return Refund(str(doc["id"]), int(doc["amount"]))
