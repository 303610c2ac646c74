"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout and foreign keys on. Its write units start with
``BEGIN IMMEDIATE`` so a unit that reads before it writes (claim a review item, append to the
audit chain) holds the write lock from its first statement instead of failing half-way when
another writer got in between. PostgreSQL gets a sized connection pool; its write units use
row locks, ``ON CONFLICT`` and an advisory lock instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from services.central.settings import Settings

#: Execution option that makes the next SQLite transaction ``BEGIN IMMEDIATE``.
IMMEDIATE = "anshin_sqlite_immediate"


def sqlite_file(url: URL) -> Path | None:
    """Path of a file-backed SQLite URL, else None.

    >>> sqlite_file(make_url("sqlite:///var/central.db"))
    PosixPath('var/central.db')
    >>> sqlite_file(make_url("sqlite://")) is None, sqlite_file(make_url("postgresql://h/db")) is None
    (True, True)
    """
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def make_engine(settings: Settings) -> Engine:
    """Engine for ``settings.database_url``; creates the SQLite file's folder if needed."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_recycle=settings.db_pool_recycle_s,
        pool_pre_ping=True,  # survive a database restart without a failed request
    )


def _sqlite_engine(url: URL, settings: Settings) -> Engine:
    if (path := sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        # FastAPI runs sync dependencies and routes on different pool threads.
        connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout_ms / 1000},
    )
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True)
class Database:
    """One engine and its session factory; built by ``create_app`` and shared by its routes."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = make_engine(settings)
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read_session(self) -> Session:
        """A session for reads (callers close it)."""
        return self.sessions()

    def write_session(self) -> Session:
        """A session whose transaction holds the SQLite write lock from its first statement.

        Callers commit once per unit of work and close it.
        """
        session = self.sessions()
        if self.dialect == "sqlite":
            session.connection(execution_options={IMMEDIATE: True})
        return session

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """``with db.unit_of_work() as s: ...`` commits on success, rolls back on error."""
        session = self.write_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
