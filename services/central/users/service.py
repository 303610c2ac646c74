"""User accounts: create, change password, disable. Each change is audited (signing in:
:mod:`.signin`).

Functions work inside the caller's transaction and never commit. The audit chain names a user
``user:<id>`` (see :func:`actor_of`), never by name: names are personal data and stay in the
``users`` table, so erasing an account never breaks the chain.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.central import audit
from services.central.db.tables import UserRow
from services.central.users.actors import actor_of, user_id_of  # noqa: F401 (re-exported)
from services.central.users.passwords import check_strength, hash_password
from services.central.users.roles import Role
from services.central.users.sessions import end_all_sessions

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
LOCALES = ("ja", "en")


class UserError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def valid_name(name: str) -> bool:
    """Whether ``name`` could be an account's name (a sign-in with any other is not looked up).

    >>> valid_name("tanaka.k@tokyo-01"), valid_name(""), valid_name("x" * 65), valid_name("a b")
    (True, False, False, False)
    """
    return bool(_NAME.fullmatch(name or ""))


def _check(name: str, role: str, locale: str | None) -> Role:
    if not _NAME.fullmatch(name):
        raise UserError(
            f"user name {name!r}: 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit"
        )
    try:
        parsed = Role(role)
    except ValueError:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}") from None
    if locale is not None and locale not in LOCALES:
        raise UserError(f"unknown locale {locale!r}; locales: {', '.join(LOCALES)}")
    return parsed


def create_user(
    session: Session, name: str, password: str, role: str, *, store_id: str | None = None,
    locale: str | None = None, actor: str = "cli",
) -> UserRow:
    """Create an account (the caller commits). Raises :class:`UserError` with the reason."""
    parsed = _check(name, role, locale)
    try:
        check_strength(password)
    except ValueError as e:
        raise UserError(str(e)) from None
    if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
        raise UserError(f"a user named {name!r} already exists")
    now = _now()
    user = UserRow(
        name=name, password_hash=hash_password(password), role=parsed.value, store_id=store_id,
        locale=locale, created_at=now, password_changed_at=now,
    )
    session.add(user)
    session.flush()
    audit.append(session, actor, "user.create", actor_of(user.id),
                 {"user_id": user.id, "role": parsed.value, "store_id": store_id})
    return user


def set_password(session: Session, user: UserRow, password: str, actor: str = "cli") -> None:
    """Replace a password; every open session of the user ends (the caller commits)."""
    try:
        check_strength(password)
    except ValueError as e:
        raise UserError(str(e)) from None
    user.password_hash, user.password_changed_at = hash_password(password), _now()
    ended = end_all_sessions(session, user.id)
    audit.append(session, actor, "user.password", actor_of(user.id), {"user_id": user.id, "sessions_ended": ended})


def set_disabled(session: Session, user: UserRow, disabled: bool, actor: str = "cli") -> None:
    """Disable (sign-in refused, sessions ended) or re-enable an account (the caller commits)."""
    user.disabled_at = _now() if disabled else None
    ended = end_all_sessions(session, user.id) if disabled else 0
    audit.append(session, actor, "user.disable" if disabled else "user.enable", actor_of(user.id),
                 {"user_id": user.id, "sessions_ended": ended})


def ensure_user(
    session: Session, name: str, password: str, role: str, *, store_id: str | None = None,
    locale: str | None = None, actor: str = "demo",
) -> UserRow:
    """Create the account, or reset its password, role and store if it exists (the demo's accounts)."""
    user = find_user(session, name)
    if user is None:
        return create_user(session, name, password, role, store_id=store_id, locale=locale, actor=actor)
    parsed = _check(name, role, locale)
    if (user.role, user.store_id) != (parsed.value, store_id):
        user.role, user.store_id = parsed.value, store_id
        audit.append(session, actor, "user.role", actor_of(user.id),
                     {"user_id": user.id, "role": parsed.value, "store_id": store_id})
    if user.disabled_at is not None:
        set_disabled(session, user, False, actor)
    set_password(session, user, password, actor)
    return user


def find_user(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def names_by_actor(session: Session, actors: set[str]) -> dict[str, str]:
    """``{"user:7": "tanaka", ...}`` for the user actors among ``actors`` (for display only)."""
    ids = {uid for a in actors if (uid := user_id_of(a)) is not None}
    if not ids:
        return {}
    rows = session.execute(select(UserRow.id, UserRow.name).where(UserRow.id.in_(ids))).all()
    return {actor_of(r.id): r.name for r in rows}
