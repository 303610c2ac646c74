"""Scoped API keys. Only the sha256 of a secret is stored; the secret is shown once.

A secret is 32 random bytes (``ank_`` + URL-safe base64), so a plain sha256 is enough: there
is nothing to brute-force that a slow hash would protect (unlike a password).

>>> p = Principal(name="edge-tokyo-01", scopes=frozenset({Scope.EVENTS_WRITE}), store_id="tokyo-01")
>>> p.allows(Scope.EVENTS_WRITE), p.allows(Scope.AUDIT_READ)
(True, False)
>>> Principal(name="ops", scopes=frozenset({Scope.ADMIN})).allows(Scope.AUDIT_READ)
True
>>> parse_scopes(["events:read", "events:reed"])
Traceback (most recent call last):
...
ValueError: unknown scope 'events:reed'; valid scopes: admin, audit:read, commands:device, commands:write, events:read, events:write, metrics:read, reviews:read, reviews:write, webhooks:manage
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import ApiKey

SECRET_PREFIX = "ank_"


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"
    EVENTS_READ = "events:read"
    REVIEWS_READ = "reviews:read"
    REVIEWS_WRITE = "reviews:write"
    AUDIT_READ = "audit:read"
    WEBHOOKS_MANAGE = "webhooks:manage"  # integrators: create, list, delete webhooks; see dead deliveries
    METRICS_READ = "metrics:read"  # Prometheus scraping /metrics
    COMMANDS_WRITE = "commands:write"  # issue commands to store devices and read them back
    COMMANDS_DEVICE = "commands:device"  # a device: poll its commands, report results
    ADMIN = "admin"  # implies every other scope


class KeyRequestError(ValueError):
    """A key cannot be created as asked (bad scope, duplicate name)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name is the actor in audit entries and review decisions."""

    name: str
    scopes: frozenset[Scope]
    store_id: str | None = None
    key_id: int | None = None  # the api_keys row (the rate limiter's bucket); None for made-up principals

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: int
    name: str
    secret: str  # shown once, never stored
    scopes: tuple[Scope, ...]
    store_id: str | None


def parse_scopes(values: Iterable[str]) -> tuple[Scope, ...]:
    """Validate scope names, keeping order and dropping repeats."""
    valid = {s.value: s for s in Scope}
    out: list[Scope] = []
    for v in values:
        if v not in valid:
            raise ValueError(f"unknown scope {v!r}; valid scopes: {', '.join(sorted(valid))}")
        if valid[v] not in out:
            out.append(valid[v])
    return tuple(out)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session, name: str, scopes: Iterable[str], store_id: str | None = None, actor: str = "cli"
) -> CreatedKey:
    """Create a key and audit it in the caller's transaction (the caller commits)."""
    try:
        parsed = parse_scopes(scopes)
    except ValueError as e:
        raise KeyRequestError(str(e)) from e
    if not parsed:
        raise KeyRequestError("a key needs at least one scope")
    if not name or len(name) > 128:
        raise KeyRequestError("key name must be 1-128 characters")
    if name.startswith("user:"):  # the actor form of dashboard users: a key must never look like a person
        raise KeyRequestError("key names must not start with 'user:' (reserved for dashboard users)")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise KeyRequestError(f"a key named {name!r} already exists; names identify actors, pick another")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        secret_sha256=hash_secret(secret),
        scopes=[s.value for s in parsed],
        store_id=store_id,
        created_at=datetime.now(timezone.utc),
    )
    session.add(row)
    session.flush()
    audit.append(
        session, actor, "key.create", f"api_key:{row.id}",
        {"key_id": row.id, "name": name, "scopes": row.scopes, "store_id": store_id},
    )
    return CreatedKey(row.id, name, secret, parsed, store_id)


def revoke_key(session: Session, name: str, actor: str = "cli") -> bool:
    """Revoke a key by name; False if there is no such active key. Audited; the caller commits."""
    row = session.scalar(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
    if row is None:
        return False
    row.revoked_at = datetime.now(timezone.utc)
    audit.append(session, actor, "key.revoke", f"api_key:{row.id}", {"key_id": row.id, "name": name})
    return True


def authenticate(session: Session, secret: str) -> Principal | None:
    """The principal for a presented secret, or None if unknown or revoked."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    row = session.scalar(
        select(ApiKey).where(ApiKey.secret_sha256 == hash_secret(secret), ApiKey.revoked_at.is_(None))
    )
    if row is None:
        return None
    return Principal(name=row.name, scopes=frozenset(parse_scopes(row.scopes)), store_id=row.store_id, key_id=row.id)
