"""Central fixtures: every DB test runs on SQLite (a fresh file) and on PostgreSQL.

PostgreSQL: one uniquely named database per test session on 127.0.0.1:5432 (user postgres),
created here and dropped at the end; the app migrates it, and each test starts from empty
tables. Deselect with ``-m "not postgres"`` on a machine without PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.central.api.app import create_app
from services.central.auth import create_key
from services.central.db.migrate import upgrade
from services.central.db.session import Database
from services.central.settings import Settings

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
TABLES = "review_decisions, review_items, events, audit_log, api_keys, users, user_sessions, stores, snapshots"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"anshin_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is unreachable ({e}); start it, or deselect: -m 'not postgres'")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _empty_postgres(settings: Settings) -> None:
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    finally:
        db.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_settings(backend: str, request: pytest.FixtureRequest, tmp_path) -> Callable[..., Settings]:  # type: ignore[no-untyped-def]
    """Settings for an empty database of this test's backend, plus any overrides."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else ""
    emptied = False

    def make(**overrides: object) -> Settings:
        nonlocal emptied
        settings = Settings(data_dir=tmp_path / "var", database_url=url, **overrides)  # type: ignore[arg-type]
        if backend == "postgresql" and not emptied:
            _empty_postgres(settings)
            emptied = True
        return settings

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


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
def auth(db: Database) -> Callable[..., dict[str, str]]:
    """``auth("alice", "reviews:write", store="s1")`` → headers carrying a fresh key."""

    def make(name: str, *scopes: str, store: str | None = None) -> dict[str, str]:
        with db.unit_of_work() as session:
            created = create_key(session, name, scopes, store, actor="test")
        return {"Authorization": f"Bearer {created.secret}"}

    return make


@pytest.fixture
def edge(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    """An edge worker's key: writes and reads events of any store."""
    return auth("edge-worker", "events:write", "events:read")

