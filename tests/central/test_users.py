"""Dashboard accounts and sessions: argon2 passwords, sign-in and sign-out, CSRF, cookies, the
`anshin users` command, and what reaches the audit chain (ids, never names)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from anshin.cli import app as anshin
from services.central.api.app import create_app
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, SignInFailure, UserRow, UserSession
from services.central.settings import Settings
from services.central.users.passwords import hash_password, verify_password
from services.central.users.service import UserError, create_user, find_user, set_disabled, set_password

from .ui_builders import PASSWORD, add_user, login_token, sign_in


def audit_rows(db: Database, action: str) -> list[AuditEntry]:
    with db.read_session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_passwords_are_stored_as_argon2id_hashes_only(db: Database) -> None:
    uid = add_user(db, "tanaka")
    with db.read_session() as s:
        row = s.get(UserRow, uid)
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert verify_password(row.password_hash, PASSWORD) and not verify_password(row.password_hash, PASSWORD + "x")
    assert hash_password(PASSWORD) != row.password_hash  # salted


@pytest.mark.parametrize(("name", "password", "role", "message"), [
    pytest.param("tanaka", "short", "staff", "at least 10 characters", id="short password"),
    pytest.param("tanaka", PASSWORD, "boss", "unknown role 'boss'", id="unknown role"),
    pytest.param("tanaka yuki", PASSWORD, "staff", "user name 'tanaka yuki'", id="space in name"),
])
def test_account_creation_names_what_is_wrong(db: Database, name: str, password: str, role: str, message: str) -> None:
    with db.unit_of_work() as s, pytest.raises(UserError, match=message):
        create_user(s, name, password, role)


def test_a_name_is_taken_once_and_the_chain_records_ids_not_names(db: Database) -> None:
    uid = add_user(db, "tanaka", "manager", store="tokyo-01")
    with db.unit_of_work() as s, pytest.raises(UserError, match="already exists"):
        create_user(s, "tanaka", PASSWORD, "staff")
    [entry] = audit_rows(db, "user.create")
    assert entry.subject == f"user:{uid}" and entry.details == {"user_id": uid, "role": "manager", "store_id": "tokyo-01"}
    assert "tanaka" not in str(entry.details) + entry.subject + entry.actor


def test_sign_in_with_the_right_password_opens_a_session(client: TestClient, db: Database) -> None:
    add_user(db, "sato")
    r = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": login_token(client),
                                    "next": "/stores"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/stores"
    cookie = r.headers["set-cookie"]
    assert "anshin_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in this test; "auto" sets it behind https
    assert client.get("/queue").status_code == 200
    [login] = audit_rows(db, "user.login")
    assert login.actor.startswith("user:")


@pytest.mark.parametrize(("name", "password", "subject"), [
    pytest.param("sato", "wrong-password-1", "user:1", id="wrong password"),
    pytest.param("nobody", PASSWORD, "user:unknown", id="unknown name"),
])
def test_a_failed_sign_in_says_nothing_about_which_part_was_wrong(
    client: TestClient, db: Database, name: str, password: str, subject: str
) -> None:
    add_user(db, "sato")
    r = client.post("/login", data={"name": name, "password": password, "csrf_token": login_token(client)})
    assert r.status_code == 401 and "ユーザー名またはパスワードが違います。" in r.text  # Japanese: a store in Japan
    assert "anshin_session" not in r.headers.get("set-cookie", "")
    assert audit_rows(db, "user.login_failed") == audit_rows(db, "auth.failed") == []  # summarised per window, later
    with db.read_session() as s:
        (window,) = s.scalars(select(SignInFailure)).all()
    assert (window.subject, window.count) == (subject, 1)
    assert name not in str(window.name_digests) and len(window.name_digests) == (1 if subject == "user:unknown" else 0)
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_the_sign_in_form_needs_its_own_csrf_token(client: TestClient, db: Database) -> None:
    add_user(db, "sato")
    login_token(client)
    r = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403 and "anshin_session" not in r.headers.get("set-cookie", "")


def test_sign_out_ends_the_session_on_the_server(client: TestClient, db: Database) -> None:
    csrf = sign_in(client, db, "sato")
    stolen = client.cookies.get("anshin_session")
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403  # a forged sign-out is refused
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?out=1"
    client.cookies.set("anshin_session", stolen)  # replaying the old cookie does not work
    assert client.get("/queue", follow_redirects=False).headers["location"] == "/login?next=/queue"
    assert [e.action for e in audit_rows(db, "user.logout")] == ["user.logout"]


def test_idle_sessions_expire(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(session_idle_s=600))
    db: Database = app.state.db
    try:
        with TestClient(app) as client:
            sign_in(client, db, "sato")
            with db.unit_of_work() as s:
                s.execute(update(UserSession).values(last_seen_at=datetime.now(timezone.utc) - timedelta(seconds=601)))
            assert client.get("/queue", follow_redirects=False).status_code == 303
    finally:
        db.dispose()


def test_a_password_change_or_disabling_ends_open_sessions(client: TestClient, db: Database) -> None:
    sign_in(client, db, "sato")
    with db.unit_of_work() as s:
        set_password(s, find_user(s, "sato"), "a-new-password-2")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    r = client.post("/login", data={"name": "sato", "password": "a-new-password-2", "csrf_token": login_token(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    with db.unit_of_work() as s:
        set_disabled(s, find_user(s, "sato"), True)
    assert client.get("/queue", follow_redirects=False).status_code == 303
    r = client.post("/login", data={"name": "sato", "password": "a-new-password-2", "csrf_token": login_token(client)})
    assert r.status_code == 401
    with db.read_session() as s:
        assert s.scalar(select(SignInFailure.count).where(SignInFailure.subject == "user:1")) == 1


def test_secure_cookie_when_configured(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(cookie_secure="always"))
    try:
        with TestClient(app, base_url="https://testserver") as client:
            add_user(app.state.db, "sato")
            r = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": login_token(client)},
                            follow_redirects=False)
            assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
    finally:
        app.state.db.dispose()


def test_cli_adds_users_and_they_can_sign_in(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    url = ["--database-url", settings.database_url]
    r = runner.invoke(anshin, ["users", "add", "--name", "yamada", "--role", "auditor", "--password-stdin", *url],
                      input="cli-password-123\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(anshin, ["users", "add", "--name", "kato", "--role", "staff", "--store", "tokyo-01", "--generate", *url])
    assert r.exit_code == 0, r.output
    generated = r.stdout.strip().splitlines()[-1]
    assert len(generated) >= 16
    r = runner.invoke(anshin, ["users", "add", "--name", "yamada", "--role", "staff", "--generate", *url])
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(anshin, ["users", "add", "--name", "mori", "--role", "chef", "--generate", *url])
    assert r.exit_code == 2 and "unknown role 'chef'" in r.output
    listing = runner.invoke(anshin, ["users", "list", *url]).stdout
    assert "yamada\tauditor\t*\tactive" in listing and "kato\tstaff\ttokyo-01\tactive" in listing

    app = create_app(settings)
    try:
        for name, password in (("yamada", "cli-password-123"), ("kato", generated)):
            with TestClient(app) as client:
                r = client.post("/login", data={"name": name, "password": password, "csrf_token": login_token(client)},
                                follow_redirects=False)
                assert r.status_code == 303, (name, r.text[:300])
    finally:
        app.state.db.dispose()
