"""``anshin users add|passwd|disable|enable|unlock|list``: dashboard accounts.

Passwords are asked twice on a terminal, read from stdin with ``--password-stdin`` (scripts), or
made up and printed once with ``--generate``. Every change is audited with actor ``cli``.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Optional

import typer

users_app = typer.Typer(help="Dashboard accounts: staff, manager, operator, auditor, admin.", no_args_is_help=True)

DatabaseUrl = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on some versions
    typer.Option("--database-url", help="SQLAlchemy URL; default: ANSHIN_DATABASE_URL or sqlite:///var/central.db"),
]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")]
Generate = Annotated[bool, typer.Option("--generate", help="make up a strong password and print it once")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _database(database_url: str | None):  # noqa: ANN202 - Database, imported lazily
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings

    db = Database.from_settings(Settings(database_url=database_url) if database_url else Settings())
    upgrade(db.engine)
    return db


@contextmanager
def _session(database_url: str | None, *, read_only: bool = False) -> Iterator[Any]:
    """A session on the migrated database (committed on success unless ``read_only``); the
    engine is closed afterwards either way."""
    db = _database(database_url)
    try:
        with db.read_session() if read_only else db.unit_of_work() as session:
            yield session
    finally:
        db.dispose()


def _user_named(session: Any, name: str) -> Any:
    """The account called ``name``; exits with code 1 and a message when there is none."""
    from services.central.users.service import find_user

    user = find_user(session, name)
    if user is None:
        raise _fail(f"no user named {name!r}", code=1)
    return user


def generate_password() -> str:
    """16 URL-safe random characters (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _read_password(from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The new password and whether it was generated (and so must be printed)."""
    if from_stdin and generate:
        raise _fail("use either --password-stdin or --generate, not both")
    if generate:
        return generate_password(), True
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise _fail("--password-stdin: stdin was empty")
        return line, False
    if not sys.stdin.isatty():
        raise _fail("no terminal to ask for a password: pass --password-stdin or --generate")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True), False


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Option("--name", help="sign-in name (letters, digits, _ . @ -)")],
    role: Annotated[str, typer.Option("--role", help="staff, manager, operator, auditor or admin")],
    store: Annotated[Optional[str], typer.Option("--store", help="limit the user to one store_id")] = None,  # noqa: UP045
    locale: Annotated[Optional[str], typer.Option("--locale", help="ja or en; default: the store's country")] = None,  # noqa: UP045
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a dashboard account."""
    from services.central.users.service import UserError, create_user

    password, generated = _read_password(password_stdin, generate)
    try:
        with _session(database_url) as session:
            user = create_user(session, name, password, role, store_id=store, locale=locale, actor="cli")
            user_id = user.id
    except UserError as e:
        raise _fail(f"cannot add user: {e}") from None
    scope = f", store {store}" if store else ", every store"
    typer.echo(f"created user {name!r} (id {user_id}, role {role}{scope})", err=True)
    if generated:
        typer.echo("password (shown once):", err=True)
        typer.echo(password)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Option("--name", help="sign-in name")],
    password_stdin: PasswordStdin = False,
    generate: Generate = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a new password; the user's open sessions end."""
    from services.central.users.service import UserError, set_password

    password, generated = _read_password(password_stdin, generate)
    try:
        with _session(database_url) as session:
            set_password(session, _user_named(session, name), password, actor="cli")
    except UserError as e:
        raise _fail(f"cannot set password: {e}") from None
    typer.echo(f"password of {name!r} changed; open sessions ended", err=True)
    if generated:
        typer.echo(password)


def _set_disabled(name: str, disabled: bool, database_url: str | None) -> None:
    from services.central.users.service import set_disabled

    with _session(database_url) as session:
        set_disabled(session, _user_named(session, name), disabled, actor="cli")
    typer.echo(f"user {name!r} {'disabled; open sessions ended' if disabled else 'enabled'}")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Option("--name")], database_url: DatabaseUrl = None) -> None:
    """Refuse sign-in for an account and end its sessions (decisions it made stay attributed)."""
    _set_disabled(name, True, database_url)


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Option("--name")], database_url: DatabaseUrl = None) -> None:
    """Allow a disabled account to sign in again."""
    _set_disabled(name, False, database_url)


@users_app.command("unlock")
def users_unlock(name: Annotated[str, typer.Option("--name")], database_url: DatabaseUrl = None) -> None:
    """Lift a lockout after repeated failed sign-ins (audited as ``user.unlock``)."""
    from services.central.settings import Settings
    from services.central.users.signin import unlock

    window_s = (Settings(database_url=database_url) if database_url else Settings()).sign_in_audit_window_s
    with _session(database_url) as session:
        was_locked = unlock(session, _user_named(session, name), "cli", window_s)
    typer.echo(f"user {name!r} unlocked" if was_locked else f"user {name!r} was not locked (failure count reset)")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """Accounts: id, name, role, store, state."""
    from sqlalchemy import select

    from services.central.db.tables import UserRow

    with _session(database_url, read_only=True) as session:
        rows = session.scalars(select(UserRow).order_by(UserRow.id)).all()
    for u in rows:
        state = "disabled" if u.disabled_at else "locked" if u.locked_at else "active"
        typer.echo(f"{u.id}\t{u.name}\t{u.role}\t{u.store_id or '*'}\t{state}")
