"""Run the Alembic migrations programmatically (``anshin db upgrade`` and app start-up)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from services.central.db.session import IMMEDIATE

#: Shipped as package data next to this package (see pyproject [tool.setuptools.package-data]).
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

# Alembic keeps its migration context in module globals: one upgrade per process at a time.
# Between processes, SQLite's write lock (below) or PostgreSQL's advisory lock (env.py) orders them.
_IN_PROCESS = threading.Lock()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision`` (idempotent)."""
    cfg = alembic_config()
    with _IN_PROCESS, engine.connect() as connection:
        # SQLite: take the write lock first, so processes starting together migrate one after
        # the other instead of failing (PostgreSQL: env.py takes an advisory lock).
        connection.execution_options(**{IMMEDIATE: True})
        with connection.begin():
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
