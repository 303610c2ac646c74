"""Migrations match the tables on both backends; a fresh SQLite file just works; CLI keys/db."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.central.api.app import create_app
from services.central.cli import central_app
from services.central.db.migrate import current_revision, head_revision, upgrade
from services.central.db.session import Database
from services.central.db.tables import Base
from services.central.settings import Settings

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
    assert r.exit_code == 0 and "revision 0001" in r.output, r.output
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
    monkeypatch.setenv("ANSHIN_REVIEW_DEADLINES_S", '{"zone.over_capacity": 120}')
    monkeypatch.setenv("ANSHIN_MAX_BODY_BYTES", "4096")
    s = Settings()
    assert s.database_url == f"sqlite:///{tmp_path}/central.db"
    assert s.requires_two_reviewers("entrance.fever_suspected") and not s.requires_two_reviewers("behaviour.suspicious")
    assert s.review_deadline_s("zone.over_capacity") == 120 and s.review_deadline_s("other.type") == 900
    assert s.max_body_bytes == 4096
