"""Sign-in under attack: throttled per address and per account, never holding the database while
argon2 runs, a lockout that a manager lifts, and failed attempts summarised in the audit chain."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from anshin.cli import app as anshin
from services.central import audit
from services.central.api.app import create_app
from services.central.dashboard.access import LOGIN_CSRF_COOKIE
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, SignInFailure, UserRow
from services.central.settings import Settings

from .builders import occupancy, wire
from .ui_builders import PASSWORD, add_user, login_token

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def open_settings(make_settings: Callable[..., Settings]) -> Settings:
    """Throttles wide open, so every attempt reaches the password check (the database path)."""
    return make_settings(sign_in_address_per_min=1000, sign_in_account_per_min=1000, sign_in_lockout_after=1000)


@pytest.fixture
def running() -> Iterator[Callable[[Settings], tuple[TestClient, Database]]]:
    """``running(settings)`` → a client on a fresh app with these settings (closed afterwards)."""
    started: list[tuple[FastAPI, TestClient]] = []

    def start(settings: Settings) -> tuple[TestClient, Database]:
        app = create_app(settings)
        client = TestClient(app).__enter__()
        started.append((app, client))
        return client, app.state.db

    yield start
    for app, client in started:
        client.__exit__(None, None, None)
        app.state.db.dispose()


def _try(client: TestClient, name: str, password: str, token: str) -> int:
    """One attempt with the form token in the cookie too (each answer sets a new one in the jar,
    which attempts running at once would otherwise race on)."""
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                       headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={token}"}, follow_redirects=False).status_code


def _actions(db: Database, action: str) -> list[AuditEntry]:
    with db.read_session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_forty_concurrent_failed_sign_ins_do_not_stall_ingest(open_settings: Settings, running) -> None:  # type: ignore[no-untyped-def]
    """The probe's finding: argon2 ran inside write transactions and ingest answered 503 for 10-18 s."""
    client, db = running(open_settings)
    add_user(db, "sato")
    from services.central.auth import create_key

    with db.unit_of_work() as s:
        edge = {"Authorization": f"Bearer {create_key(s, 'edge', ['events:write'], actor='test').secret}"}
    token = login_token(client)
    start = threading.Barrier(41)
    codes: list[int] = []

    def attack(i: int) -> None:
        start.wait(timeout=30)
        codes.append(_try(client, "sato" if i % 2 else f"ghost{i}", f"wrong-password-{i}", token))

    attackers = [threading.Thread(target=attack, args=(i,)) for i in range(40)]
    for t in attackers:
        t.start()
    start.wait(timeout=30)
    latencies, statuses = [], []
    while any(t.is_alive() for t in attackers):
        began = time.monotonic()
        statuses.append(client.post("/api/v1/events", json=wire(occupancy()), headers=edge).status_code)
        latencies.append(time.monotonic() - began)
    for t in attackers:
        t.join(timeout=120)
    assert len(codes) == 40 and set(codes) <= {401, 429}  # 429: more than 32 waiting for a password check
    assert codes.count(401) >= 32
    assert statuses and set(statuses) == {200}, statuses
    assert max(latencies) < 2.0, f"ingest stalled: {max(latencies):.2f} s (of {len(latencies)} requests)"
    with db.read_session() as s:
        counts = dict(s.execute(select(SignInFailure.subject, SignInFailure.count)).all())
    assert set(counts) <= {"user:1", "user:unknown"} and sum(counts.values()) == codes.count(401)
    assert _actions(db, "auth.failed") == [] and _actions(db, "user.login_failed") == []  # nothing per attempt


def test_the_address_and_the_account_are_throttled_before_any_check(make_settings: Callable[..., Settings], running) -> None:  # type: ignore[no-untyped-def]
    client, db = running(make_settings(sign_in_address_per_min=5, sign_in_account_per_min=2))
    add_user(db, "sato")
    token = login_token(client)
    assert [_try(client, "sato", "wrong-password-x", token) for _ in range(3)] == [401, 401, 429]  # the account
    limited = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": token},
                          headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={token}"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1  # even the right password
    # every attempt counted against the address: 4 so far, the limit is 5
    assert [_try(client, name, "wrong-password-x", token) for name in ("a1", "a2", "a3")] == [401, 429, 429]
    with db.read_session() as s:
        assert s.scalar(select(UserRow.failed_sign_ins).where(UserRow.name == "sato")) == 2  # refusals never reached it


def test_lockout_after_repeated_failures_until_a_manager_unlocks(make_settings: Callable[..., Settings], running) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(sign_in_lockout_after=3, sign_in_account_per_min=100)
    client, db = running(settings)
    uid = add_user(db, "sato")
    token = login_token(client)
    assert [_try(client, "sato", "wrong-password-x", token) for _ in range(3)] == [401] * 3
    assert _try(client, "sato", PASSWORD, token) == 401  # locked: the right password does not help now
    (locked,) = _actions(db, "user.locked")
    assert (locked.subject, locked.details["failed_sign_ins"]) == (f"user:{uid}", 3)
    assert _try(client, "sato", "wrong-password-x", token) == 401
    assert len(_actions(db, "user.locked")) == 1  # audited once per lockout, not per attempt

    listed = CliRunner().invoke(anshin, ["users", "list", "--database-url", settings.database_url])
    assert "\tlocked" in listed.output
    r = CliRunner().invoke(anshin, ["users", "unlock", "--name", "sato", "--database-url", settings.database_url])
    assert r.exit_code == 0 and "unlocked" in r.output, r.output
    (unlocked,) = _actions(db, "user.unlock")
    assert (unlocked.actor, unlocked.subject) == ("cli", f"user:{uid}")
    assert _try(client, "sato", PASSWORD, token) == 303
    with db.read_session() as s:
        assert s.scalar(select(UserRow.failed_sign_ins).where(UserRow.id == uid)) == 0
        assert audit.verify(s).ok


def test_failed_attempts_reach_the_chain_as_one_summary_per_account_per_window(make_settings: Callable[..., Settings], running) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(sign_in_address_per_min=1000, sign_in_account_per_min=1000, sign_in_lockout_after=1000)
    client, db = running(settings)
    uid = add_user(db, "sato")
    token = login_token(client)
    for i in range(12):
        assert _try(client, "sato", f"wrong-{i}-password", token) == 401
        assert _try(client, f"tanaka{i % 3}", "whatever-password", token) == 401
    assert _actions(db, "auth.failed") == []  # the window is still open
    with db.unit_of_work() as s:  # let the window close: move it an hour back
        for subject, start in s.execute(select(SignInFailure.subject, SignInFailure.window_start)).all():
            s.execute(update(SignInFailure).where(SignInFailure.subject == subject, SignInFailure.window_start == start)
                      .values(window_start=start - timedelta(hours=1)))
    assert _try(client, "sato", PASSWORD, token) == 303  # the next attempt writes the summaries
    summaries = {e.subject: e for e in _actions(db, "auth.failed")}
    assert set(summaries) == {f"user:{uid}", "user:unknown"}
    assert summaries[f"user:{uid}"].details["count"] == 12 and summaries["user:unknown"].details["count"] == 12
    digests = summaries["user:unknown"].details["name_sha256"]
    assert len(digests) == 3 and all(len(d) == 64 for d in digests)
    text = str([e.details for e in summaries.values()])
    assert "tanaka" not in text and "wrong-" not in text and "whatever" not in text
    with db.read_session() as s:
        assert s.scalars(select(SignInFailure)).all() == []
        assert audit.verify(s).ok


def test_a_manager_unlocks_an_account_of_their_store_on_the_dashboard(make_settings: Callable[..., Settings], running) -> None:  # type: ignore[no-untyped-def]
    from .ui_builders import csrf_of, post_form, sign_in

    client, db = running(make_settings(sign_in_lockout_after=2, sign_in_account_per_min=100))
    uid = add_user(db, "sato", store="tokyo-01")
    add_user(db, "kato", store="osaka-02")
    token = login_token(client)
    for name in ("sato", "kato"):
        assert [_try(client, name, "wrong-password-x", token) for _ in range(2)] == [401, 401]

    staff = TestClient(client.app)
    sign_in(staff, db, "suzuki", role="staff", store="tokyo-01")
    assert staff.get("/accounts/locked", follow_redirects=False).status_code == 403

    sign_in(client, db, "yamada", role="manager", store="tokyo-01")
    page = client.get("/accounts/locked")
    assert page.status_code == 200 and "sato" in page.text and "kato" not in page.text  # only their store
    csrf = csrf_of(client)
    with db.read_session() as s:
        kato = s.scalar(select(UserRow.id).where(UserRow.name == "kato"))
    assert post_form(client, f"/accounts/{kato}/unlock", csrf).status_code == 403
    assert post_form(client, f"/accounts/{uid}/unlock", "forged").status_code == 403
    done = post_form(client, f"/accounts/{uid}/unlock", csrf)
    assert done.status_code == 303 and done.headers["location"] == "/accounts/locked?done=sato"
    (entry,) = _actions(db, "user.unlock")
    assert (entry.subject, entry.actor.startswith("user:")) == (f"user:{uid}", True)
    with db.read_session() as s:
        locked = dict(s.execute(select(UserRow.name, UserRow.locked_at)).all())
    assert locked["sato"] is None and locked["kato"] is not None
    fresh = TestClient(client.app)
    assert _try(fresh, "sato", PASSWORD, login_token(fresh)) == 303
