"""Fixtures and helpers shared by ``tests/central`` and ``tests/ops``: a throwaway PostgreSQL
database on 127.0.0.1:5432 (user postgres, trust auth) and the central app on a ``settings``
fixture that each folder defines. A conftest imports the fixtures it wants by name.

Importable as ``central_fixtures`` because pytest puts ``tests/`` (the root conftest's folder,
no ``__init__.py``) on ``sys.path``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.central.api.app import create_app
from services.central.commands.settings import CommandSettings
from services.central.db.session import Database
from services.central.settings import Settings

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def pg_admin(hint: str = "") -> psycopg.Connection:
    """An autocommit connection to the server's ``postgres`` database; fails the test run with a
    message naming the server (plus ``hint``) when it is unreachable (5 s connect timeout)."""
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is unreachable ({e}){hint}")


@contextmanager
def throwaway_database(admin: psycopg.Connection, prefix: str) -> Iterator[str]:
    """Create an empty, uniquely named database; yield its SQLAlchemy URL; drop it afterwards
    (``WITH (FORCE)``: connections a test left open do not keep it alive)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    # Commands: no broker, and long-polls capped short (the fuzz test polls too); a test that needs
    # a broker or a longer wait sets its own CommandSettings here.
    application.state.command_settings = CommandSettings(mqtt_url=None, poll_max_wait_s=0.2)
    yield application
    application.state.db.dispose()


@pytest.fixture
def db(app: FastAPI) -> Database:
    return app.state.db  # type: ignore[no-any-return]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
