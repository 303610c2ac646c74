"""Alembic environment of the central database.

The URL comes from, in order: a connection handed over by ``services.central.db.migrate``
(``config.attributes["connection"]``), ``sqlalchemy.url`` in the Alembic config, or
``Settings().database_url`` (environment ``ANSHIN_DATABASE_URL``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

import services.central.usecases  # noqa: F401 - registers the use cases' own tables on Base
from services.central.db.tables import Base

#: Arbitrary constant: only one process migrates a PostgreSQL database at a time.
MIGRATION_LOCK_KEY = 7_146_020_001

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together must not race to create the same tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from services.central.db.session import make_engine
    from services.central.settings import Settings

    url = config.get_main_option("sqlalchemy.url")
    settings = Settings(database_url=url) if url else Settings()
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `anshin db upgrade`")
run_migrations_online()
