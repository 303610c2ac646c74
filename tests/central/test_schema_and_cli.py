"""Migrations match the tables on both backends; a fresh SQLite file just works; CLI keys/db."""

from __future__ import annotations

import json
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from services.central.api.app import create_app
from services.central.cli import central_app
from services.central.db.migrate import current_revision, head_revision, upgrade
from services.central.db.session import Database
from services.central.db.tables import Base
from services.central.settings import Settings
from services.central.usecases import USE_CASES
from services.contract import event_json_schema
from services.contract.registry import EVENT_TYPES, default_review_deadlines_s, default_two_person_types

from .builders import occupancy, wire


def test_migrations_create_exactly_the_declared_tables(settings: Settings) -> None:
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        upgrade(db.engine)  # idempotent
        assert current_revision(db.engine) == head_revision()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        assert all(u.tables is None or u.tables in sys.modules for u in USE_CASES)
    finally:
        db.dispose()


def test_fresh_sqlite_file_in_a_new_folder_just_works(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / "new" / "var")
    app = create_app(settings)
    try:
        assert (tmp_path / "new" / "var" / "central.db").exists()
        with TestClient(app) as client:
            assert client.get("/healthz").json()["status"] == "ok"
    finally:
        app.state.db.dispose()


def test_cli_creates_a_key_that_works(settings: Settings) -> None:
    runner = CliRunner()
    r = runner.invoke(central_app, ["db", "upgrade", "--database-url", settings.database_url])
    assert r.exit_code == 0 and f"revision {head_revision()}" in r.output, r.output
    r = runner.invoke(
        central_app,
        ["keys", "create", "--name", "edge-tokyo-01", "--scope", "events:write", "--scope", "events:read",
         "--store", "tokyo-01", "--database-url", settings.database_url],
    )
    assert r.exit_code == 0, r.output
    secret = r.stdout.strip().splitlines()[-1]
    assert secret.startswith("ank_") and len(secret) > 40
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            assert client.post("/api/v1/events", json=wire(occupancy()), headers=headers).status_code == 200
            assert client.post("/api/v1/events", json=wire(occupancy(store="osaka-03")), headers=headers).status_code == 403
    finally:
        app.state.db.dispose()
    # names identify actors: a second key with the same name is refused; so is an unknown scope
    again = runner.invoke(central_app, ["keys", "create", "--name", "edge-tokyo-01", "--scope", "events:read",
                                        "--database-url", settings.database_url])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(central_app, ["keys", "create", "--name", "x", "--scope", "events:reed",
                                      "--database-url", settings.database_url])
    assert bad.exit_code == 2 and "unknown scope 'events:reed'" in bad.output


def test_settings_from_environment(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ANSHIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANSHIN_TWO_PERSON_TYPES", '["entrance.fever_suspected"]')
    monkeypatch.setenv("ANSHIN_REVIEW_DEADLINES_S", '{"zone.overcrowded": 120}')
    monkeypatch.setenv("ANSHIN_MAX_BODY_BYTES", "4096")
    s = Settings()
    assert s.database_url == f"sqlite:///{tmp_path}/central.db"
    assert s.requires_two_reviewers("entrance.fever_suspected") and not s.requires_two_reviewers("zone.overcrowded")
    assert s.review_deadline_s("zone.overcrowded") == 120 and s.review_deadline_s("zone.cleared") == 900
    assert s.review_deadline_s("entrance.fever_suspected") == 300  # declared by the type, kept under an override
    assert s.max_body_bytes == 4096


def test_review_defaults_come_from_the_event_types() -> None:
    s = Settings()
    assert s.two_person_types == default_two_person_types()
    assert {"entrance.fever_suspected", "ventilation.infection_reported"} <= set(s.two_person_types)  # as declared
    assert s.review_deadlines_s == default_review_deadlines_s() == {"entrance.fever_suspected": 300}
    # an explicit list replaces the declared one: the two-person rule can be switched off or extended
    assert Settings(two_person_types=[]).requires_two_reviewers("entrance.fever_suspected") is False
    assert Settings(two_person_types=["zone.overcrowded"]).requires_two_reviewers("zone.overcrowded") is True
    assert Settings(review_deadlines_s={"entrance.fever_suspected": 60}).review_deadline_s("entrance.fever_suspected") == 60


@pytest.mark.parametrize(("variable", "value", "setting"), [
    pytest.param("ANSHIN_TWO_PERSON_TYPES", '["entrance.fever_suspected", "behaviour.suspicious"]', "two_person_types",
                 id="two-person types"),
    pytest.param("ANSHIN_REVIEW_DEADLINES_S", '{"behaviour.suspicious": 120}', "review_deadlines_s", id="deadlines"),
])
def test_an_unknown_event_type_in_settings_stops_start_up(monkeypatch, tmp_path, variable, value, setting) -> None:  # type: ignore[no-untyped-def]
    from services.central.api.app import build_app_from_env

    monkeypatch.setenv("ANSHIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        build_app_from_env()
    [error] = info.value.errors()
    assert error["loc"] == (setting,)
    assert f"unknown event type 'behaviour.suspicious' in {setting} ({variable})" in error["msg"]
    assert f"known: {', '.join(sorted(EVENT_TYPES))}" in error["msg"]
    assert not (tmp_path / "central.db").exists()  # refused before touching the database


def test_schema_commands_are_mounted_on_anshin() -> None:
    from anshin.cli import app

    r = CliRunner().invoke(app, ["schema", "types", "--json"])
    assert r.exit_code == 0, r.output
    assert {d["type"] for d in json.loads(r.output)} == set(EVENT_TYPES)
    r = CliRunner().invoke(app, ["schema", "export", "--out", "-"])
    assert r.exit_code == 0 and json.loads(r.output) == event_json_schema()


@pytest.mark.slow
def test_replicas_starting_together_migrate_one_fresh_database(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Three processes run `upgrade head` on the same empty database at once."""
    import secrets
    import subprocess
    import sys

    import psycopg

    from .conftest import PG_ADMIN

    url, admin, name = "", None, f"anshin_test_mig_{secrets.token_hex(4)}"
    if backend == "postgresql":
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    settings = Settings(data_dir=tmp_path / "fresh", database_url=url)
    replica = (  # import everything first, then start together
        "import sys, time\n"
        "import alembic.command, alembic.runtime.migration, alembic.ddl.postgresql, alembic.ddl.sqlite\n"
        "from services.central.db.migrate import upgrade\n"
        "from services.central.db.session import Database\n"
        "from services.central.settings import Settings\n"
        "from services.central.db.tables import Base\n"
        "db = Database.from_settings(Settings(database_url=sys.argv[2]))\n"
        "db.engine.connect().close()\n"
        "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
        "upgrade(db.engine)\n"
    )
    start_at = __import__("time").time() + 3.0
    try:
        procs = [
            subprocess.Popen([sys.executable, "-c", replica, str(start_at), settings.database_url],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outputs
        db = Database.from_settings(settings)
        assert current_revision(db.engine) == head_revision()
        db.dispose()
    finally:
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
