"""Central fixtures: every DB test runs on SQLite (a fresh file) and on PostgreSQL.

PostgreSQL: one uniquely named database per test session on 127.0.0.1:5432 (user postgres),
created here and dropped at the end; the app migrates it, and each test starts from empty
tables. Deselect with ``-m "not postgres"`` on a machine without PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from central_fixtures import PG_ADMIN, app, client, db, pg_admin, throwaway_database  # noqa: F401 (shared fixtures)
from sqlalchemy import text

from services.central.auth import create_key
from services.central.db.migrate import upgrade
from services.central.db.session import Database
from services.central.db.tables import Base
from services.central.settings import Settings

# Every table of the schema, so a new table can never leak rows from one test into the next.
TABLES = ", ".join(table.name for table in Base.metadata.sorted_tables)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    admin = pg_admin("; start it, or deselect: -m 'not postgres'")
    try:
        with throwaway_database(admin, "anshin_test") as url:
            yield url
    finally:
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

