"""Signed-in sessions: a random token in an HttpOnly cookie; the database keeps only its sha256.

A session carries a CSRF token that every form and htmx request sends back; it ends on sign-out,
after ``session_idle_s`` without a request, after ``session_max_s`` in total, or when the
password changes or the account is disabled. Server-side rows (not signed cookies) make
sign-out real and work across stateless replicas.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import UserRow, UserSession
from services.central.users.actors import actor_of
from services.central.users.roles import Role

#: ``last_seen_at`` is written at most this often (a write per request would serialise readers on SQLite).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page: the signed-in user as the dashboard needs them."""

    user_id: int
    name: str
    role: Role
    store_id: str | None  # None: every store
    locale: str | None
    csrf_token: str

    @property
    def actor(self) -> str:
        return actor_of(self.user_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start_session(session: Session, user: UserRow, max_s: int) -> tuple[str, str]:
    """Open a session for ``user`` and audit the sign-in; returns ``(cookie token, csrf token)``."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    session.add(UserSession(
        token_sha256=_digest(token), user_id=user.id, csrf_token=csrf,
        created_at=now, last_seen_at=now, expires_at=now + timedelta(seconds=max_s),
    ))
    session.flush()
    audit.append(session, actor_of(user.id), "user.login", actor_of(user.id), {"user_id": user.id})
    return token, csrf


def resolve(session: Session, token: str, idle_s: int) -> tuple[Viewer | None, bool]:
    """The viewer behind a cookie token, and whether ``last_seen_at`` is due a refresh."""
    if not token:
        return None, False
    row = session.get(UserSession, _digest(token))
    now = _now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None, False
    if row.last_seen_at + timedelta(seconds=idle_s) <= now or row.user.disabled_at is not None:
        return None, False
    user = row.user
    viewer = Viewer(user.id, user.name, Role(user.role), user.store_id, user.locale, row.csrf_token)
    return viewer, row.last_seen_at + TOUCH_EVERY <= now


def touch(session: Session, token: str) -> None:
    session.execute(update(UserSession).where(UserSession.token_sha256 == _digest(token)).values(last_seen_at=_now()))


def end_session(session: Session, token: str) -> bool:
    """Sign out (audited); False if there was no open session for this token."""
    row = session.get(UserSession, _digest(token))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = _now()
    audit.append(session, actor_of(row.user_id), "user.logout", actor_of(row.user_id), {"user_id": row.user_id})
    return True


def end_all_sessions(session: Session, user_id: int) -> int:
    """End every open session of a user; returns how many (no audit of its own: the caller's covers it)."""
    rows = session.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    ).all()
    now = _now()
    for row in rows:
        row.revoked_at = now
    return len(rows)
