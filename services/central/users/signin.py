"""Signing in without holding the database: throttle, read, verify, then one short write.

1. :class:`~.throttle.SignInThrottle` refuses an attempt over its address's or account's limit
   before anything else happens.
2. The account is read in a read session that is closed again (no connection is held).
3. argon2 runs on the throttle's own small pool, outside any transaction.
4. One short write unit records the outcome: on success the failure counter is reset and the
   session opened (``user.login``); on failure the account's counter goes up (after
   ``sign_in_lockout_after`` failures in a row the account is locked, audited once as
   ``user.locked``, until a manager unlocks it on ``/accounts/locked`` or an operator runs
   ``anshin users unlock``, audited as ``user.unlock``) and the failure is counted in the current
   window.

Failed attempts reach the audit chain as one ``auth.failed`` entry per account per window
(``sign_in_audit_window_s``) with the count, written when the window has closed (by the next
sign-in attempt, or ``anshin users unlock``). Names that match no account are summarised
together under ``user:unknown``, with the sha256 of at most :data:`MAX_NAME_DIGESTS` distinct
names, never a name; no password is ever recorded.

>>> window_start(datetime(2026, 1, 1, 9, 7, 30, tzinfo=timezone.utc), 900).isoformat()
'2026-01-01T09:00:00+00:00'
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.central import audit
from services.central.db.session import Database
from services.central.db.tables import SignInFailure, UserRow
from services.central.settings import Settings
from services.central.users.actors import actor_of
from services.central.users.passwords import burn_time, hash_password, needs_rehash, verify_password
from services.central.users.roles import Permission, Role
from services.central.users.service import valid_name
from services.central.users.sessions import start_session
from services.central.users.throttle import Refusal, SignInThrottle

UNKNOWN = "user:unknown"
#: Distinct unknown names whose digests one summary keeps (the count covers them all).
MAX_NAME_DIGESTS = 20


@dataclass(frozen=True, slots=True)
class Account:
    """What the password check needs, read before it and without a lock."""

    user_id: int
    password_hash: str
    usable: bool  # enabled and not locked


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome: a session token on success; else why (``failed``, ``throttled``)."""

    token: str | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.token is not None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def window_start(at: datetime, window_s: int) -> datetime:
    """The start of the audit window ``at`` falls in (windows are aligned to the epoch)."""
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_s, timezone.utc)


def find_account(db: Database, name: str) -> Account | None:
    """The account called ``name``, read in a session that is closed before returning."""
    if not valid_name(name):
        return None
    with db.read_session() as session:
        user = session.scalar(select(UserRow).where(UserRow.name == name))
        if user is None:
            return None
        return Account(user.id, user.password_hash, user.disabled_at is None and user.locked_at is None)


def check_password(account: Account | None, password: str) -> tuple[bool, str | None]:
    """(right?, a new hash if the parameters changed); CPU only, no database. An unknown,
    disabled or locked account costs one verification too, so timing tells nothing."""
    if account is None or not account.usable:
        burn_time(password)
        return False, None
    if not verify_password(account.password_hash, password):
        return False, None
    return True, hash_password(password) if needs_rehash(account.password_hash) else None


def record_success(session: Session, account: Account, new_hash: str | None, settings: Settings) -> str | None:
    """Reset the failure counter and open a session (the caller commits); None if the account was
    disabled or locked in the meantime."""
    user = session.get(UserRow, account.user_id, with_for_update=True)
    if user is None or user.disabled_at is not None or user.locked_at is not None:
        return None
    user.failed_sign_ins = 0
    if new_hash is not None:
        user.password_hash = new_hash
    flush_failures(session, _now(), settings.sign_in_audit_window_s)
    return start_session(session, user, settings.session_max_s)[0]


def record_failure(session: Session, account: Account | None, name: str, settings: Settings, now: datetime) -> None:
    """Count a failed attempt: the account's counter (locking it at the limit) and the window."""
    subject, digest = (actor_of(account.user_id), None) if account else (UNKNOWN, hashlib.sha256(name.encode()).hexdigest())
    start = window_start(now, settings.sign_in_audit_window_s)
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = make(SignInFailure).values(subject=subject, window_start=start, count=1, name_digests=[digest] if digest else [])
    session.execute(stmt.on_conflict_do_update(
        index_elements=["subject", "window_start"], set_={"count": SignInFailure.count + 1}))
    if digest is not None:
        row = session.get(SignInFailure, (subject, start), with_for_update=True, populate_existing=True)
        if row is not None and digest not in row.name_digests and len(row.name_digests) < MAX_NAME_DIGESTS:
            row.name_digests = [*row.name_digests, digest]
    locked = None
    if account is not None:
        session.execute(update(UserRow).where(UserRow.id == account.user_id)
                        .values(failed_sign_ins=UserRow.failed_sign_ins + 1))
        user = session.get(UserRow, account.user_id, populate_existing=True)
        if user is not None and user.locked_at is None and user.failed_sign_ins >= settings.sign_in_lockout_after:
            user.locked_at = now
            locked = user
    flush_failures(session, now, settings.sign_in_audit_window_s)
    if locked is not None:
        audit.append(session, "anonymous", "user.locked", actor_of(locked.id),
                     {"user_id": locked.id, "failed_sign_ins": locked.failed_sign_ins})


def flush_failures(session: Session, now: datetime, window_s: int) -> int:
    """One ``auth.failed`` audit entry per closed window, then forget the window (the caller
    commits); returns how many were written."""
    query = (select(SignInFailure).where(SignInFailure.window_start <= now - timedelta(seconds=window_s))
             .order_by(SignInFailure.window_start, SignInFailure.subject))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two replicas never summarise a window twice
    rows = session.scalars(query).all()
    for row in rows:
        details: dict[str, object] = {"count": row.count, "window_start": row.window_start.isoformat(),
                                      "window_s": window_s}
        if row.subject == UNKNOWN:
            details["name_sha256"] = sorted(row.name_digests)
        audit.append(session, "anonymous", "auth.failed", row.subject, details)
        session.execute(delete(SignInFailure).where(SignInFailure.subject == row.subject,
                                                    SignInFailure.window_start == row.window_start))
    return len(rows)


def may_unlock(role: Role, store_id: str | None, user: UserRow) -> bool:
    """Whether a viewer (``role``, bound to ``store_id`` or to none) may unlock ``user``: managers
    and admins; a store-bound one only accounts of that store; only an admin unlocks an admin.

    >>> u = UserRow(id=3, name="sato", role="staff", store_id="tokyo-01")
    >>> may_unlock(Role.MANAGER, "tokyo-01", u), may_unlock(Role.MANAGER, "osaka-02", u), may_unlock(Role.STAFF, None, u)
    (True, False, False)
    """
    if not role.allows(Permission.UNLOCK_ACCOUNTS):
        return False
    if user.role == Role.ADMIN.value and role != Role.ADMIN:
        return False
    return store_id is None or user.store_id == store_id


def locked_accounts(session: Session, role: Role, store_id: str | None) -> list[UserRow]:
    """Locked accounts this viewer may unlock, oldest lock first."""
    rows = session.scalars(select(UserRow).where(UserRow.locked_at.is_not(None)).order_by(UserRow.locked_at)).all()
    return [u for u in rows if may_unlock(role, store_id, u)]


def unlock(session: Session, user: UserRow, actor: str, window_s: int) -> bool:
    """Lift a lockout and reset the counter (audited; the caller commits); False if not locked.
    Closed failure windows are summarised first, so the chain shows the failures before the unlock."""
    was_locked = user.locked_at is not None
    user.locked_at, user.failed_sign_ins = None, 0
    flush_failures(session, _now(), window_s)
    if was_locked:
        audit.append(session, actor, "user.unlock", actor_of(user.id), {"user_id": user.id})
    return was_locked


async def sign_in(db: Database, throttle: SignInThrottle, settings: Settings, name: str, password: str,
                  address: str) -> SignIn:
    """The whole attempt (see the module docstring); database steps run briefly on the request
    thread pool, the password check on the throttle's pool."""
    refusal = throttle.admit(address, name, time.monotonic())
    if refusal is not None:
        return SignIn(refusal=refusal)
    failed = True
    try:
        account = await run_in_threadpool(find_account, db, name)
        loop = asyncio.get_running_loop()
        right, new_hash = await loop.run_in_executor(throttle.pool, check_password, account, password)
        if right and account is not None:
            def succeed() -> str | None:
                with db.unit_of_work() as session:
                    return record_success(session, account, new_hash, settings)

            token = await run_in_threadpool(succeed)
            if token is not None:
                failed = False
                return SignIn(token=token)

        def fail() -> None:
            with db.unit_of_work() as session:
                record_failure(session, account, name, settings, _now())

        await run_in_threadpool(fail)
        return SignIn()
    finally:
        throttle.done(name, failed, time.monotonic())
