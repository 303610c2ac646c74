"""Fixtures for operations tests: a throwaway PostgreSQL database, the central app on it, keys,
the shared Mosquitto at 127.0.0.1:1883, and helpers that count what was stored."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services.central.api.app import create_app
from services.central.auth import create_key
from services.central.db.migrate import upgrade
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.settings import Settings
from services.contract import Event

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
WEBHOOK_KEY = "test-master-key-" + "x" * 32


@pytest.fixture(scope="session")
def pg_server() -> Iterator[psycopg.Connection]:
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is unreachable ({e})")
    yield admin
    admin.close()


@pytest.fixture
def pg_url(pg_server: psycopg.Connection) -> Iterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    name = f"anshin_ops_{secrets.token_hex(5)}"
    pg_server.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    db = Database.from_settings(Settings(database_url=url))
    upgrade(db.engine)
    db.dispose()
    try:
        yield url
    finally:
        pg_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(pg_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, database_url=pg_url, webhook_secret_key=WEBHOOK_KEY,  # type: ignore[arg-type]
                    webhook_retry_initial_s=0.05, webhook_retry_max_s=0.2, webhook_max_attempts=3)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.db.dispose()


@pytest.fixture
def db(app: FastAPI) -> Database:
    return app.state.db  # type: ignore[no-any-return]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def key(db: Database) -> Callable[..., str]:
    """``key("name", "scope", ..., store=None)`` → a fresh API key secret."""

    def make(name: str, *scopes: str, store: str | None = None) -> str:
        with db.unit_of_work() as s:
            return create_key(s, f"{name}-{secrets.token_hex(3)}", scopes, store, actor="test").secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def occupancy(store: str, camera: str = "cam-1", i: int = 0, event_type: str = "zone.occupancy") -> Event:
    return Event(type=event_type, use_case="F", store_id=store, camera_id=camera,
                 occurred_at=datetime.now(timezone.utc), payload={"zone": "aisle", "count": i % 9, "capacity": 8, "i": i})


def stored_ids(db_or_url: Database | str, store: str) -> list[str]:
    db = Database.from_settings(Settings(database_url=db_or_url)) if isinstance(db_or_url, str) else db_or_url
    try:
        with db.read_session() as s:
            return [str(r[0]) for r in s.execute(text("SELECT event_id FROM events WHERE store_id = :s"), {"s": store})]
    finally:
        if isinstance(db_or_url, str):
            db.dispose()


def stored_mentions(url: str, ids: set[str]) -> int:
    """How many times ingest audit entries list one of ``ids`` as newly stored (exactly once each if no duplicate)."""
    db = Database.from_settings(Settings(database_url=url))
    try:
        with db.read_session() as s:
            return sum(
                sum(1 for i in details.get("stored", []) if i in ids)
                for details in s.scalars(select(AuditEntry.details).where(AuditEntry.action == "events.ingest"))
            )
    finally:
        db.dispose()


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()
