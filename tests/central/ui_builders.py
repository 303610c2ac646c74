"""Tiny builders for dashboard tests: accounts, signing in through the real form, form posts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.central.db.session import Database
from services.central.db.tables import ReviewItem
from services.central.users.service import create_user

PASSWORD = "test-password-123"


def add_user(db: Database, name: str, role: str = "staff", store: str | None = None, locale: str | None = None) -> int:
    with db.unit_of_work() as s:
        return create_user(s, name, PASSWORD, role, store_id=store, locale=locale, actor="test").id


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def sign_in(client: TestClient, db: Database, name: str, role: str = "staff", store: str | None = None,
            locale: str | None = "en") -> str:
    """Create the account, sign in through the form; returns the session's CSRF token."""
    add_user(db, name, role, store, locale)
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": login_token(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/queue")
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def item_id(db: Database, event_id: object) -> int:
    with db.read_session() as s:
        return int(s.scalar(select(ReviewItem.id).where(ReviewItem.event_id == event_id)))  # type: ignore[arg-type]


def post_form(client: TestClient, path: str, csrf: str, **fields: str):  # noqa: ANN201
    return client.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)
