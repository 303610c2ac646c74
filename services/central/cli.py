"""Central commands: ``anshin serve``, ``anshin audit verify``, ``anshin db upgrade``,
``anshin keys create|revoke``.

Mounted into the ``anshin`` root without a name (``app.add_typer(central_app)``), so the
groups appear at the top level. Heavy imports happen inside the commands to keep
``anshin --help`` fast. Every command reads ``ANSHIN_*`` settings; ``--database-url`` overrides
``ANSHIN_DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from services.central.settings import Settings

central_app = typer.Typer(no_args_is_help=True)
audit_app = typer.Typer(help="Tamper-evident audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Central database schema (Alembic migrations).", no_args_is_help=True)
keys_app = typer.Typer(help="Scoped API keys for edge workers, staff tools and integrators.", no_args_is_help=True)
central_app.add_typer(audit_app, name="audit")
central_app.add_typer(db_app, name="db")
central_app.add_typer(keys_app, name="keys")

DatabaseUrl = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on some versions
    typer.Option("--database-url", help="SQLAlchemy URL; default: ANSHIN_DATABASE_URL or sqlite:///var/central.db"),
]


def _settings(database_url: str | None) -> Settings:
    from services.central.background import settings_or_exit

    return settings_or_exit(database_url)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


#: prometheus-client's multiprocess folder (services.central.metrics; not imported here: it must
#: be set before prometheus-client is imported in a worker).
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def fresh_metrics_dir(folder: Path) -> Path:
    """Create ``folder`` and delete the counter files a previous run left there (their processes are
    gone; this deployment starts counting from zero, which Prometheus reads as a restart).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()) / "prometheus"
    >>> _ = fresh_metrics_dir(d); (d / "counter_41.db").write_bytes(b"x"); (d / "notes.txt").write_text("kept")
    1
    4
    >>> sorted(p.name for p in fresh_metrics_dir(d).iterdir())
    ['notes.txt']
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    return folder


@central_app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="bind address; default ANSHIN_HOST or 127.0.0.1")] = None,  # noqa: UP045
    port: Annotated[Optional[int], typer.Option(help="TCP port; default ANSHIN_PORT or 8000")] = None,  # noqa: UP045
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes (use PostgreSQL for >1)")] = 1,
) -> None:
    """Run the central service (API + dashboard) with uvicorn; migrates the database first.

    With several workers, /metrics of each sums every worker's counters (Prometheus multiprocess
    mode): PROMETHEUS_MULTIPROC_DIR as set, else {data_dir}/prometheus, emptied at start.
    """
    import uvicorn

    from services.contract.logs import configure_logging, uvicorn_log_config

    configure_logging()  # ANSHIN_LOG_FORMAT=json: one JSON object per line
    settings = _settings(None)
    typer.echo(f"central: database {_safe_url(settings.database_url)}", err=True)
    if workers > 1 and not os.environ.get(METRICS_DIR_ENV):
        # before uvicorn spawns the workers: they inherit it, and prometheus-client reads it at import
        folder = fresh_metrics_dir(settings.data_dir / "prometheus")
        os.environ[METRICS_DIR_ENV] = str(folder)
        typer.echo(f"central: {workers} workers count metrics together in {folder} ({METRICS_DIR_ENV})", err=True)
    uvicorn.run(
        "services.central.api.app:build_app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        timeout_graceful_shutdown=5,  # dashboards keep server-sent event streams open; don't wait on them
        log_config=uvicorn_log_config(),
    )


@audit_app.command("verify")
def audit_verify(database_url: DatabaseUrl = None) -> None:
    """Check the hash chain. Exit 0: intact; 1: names the first bad entry; 2: cannot check."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from services.central.audit import verify
    from services.central.db.session import Database, sqlite_file

    settings = _settings(database_url)
    path = sqlite_file(make_url(settings.database_url))
    if path is not None and not path.exists():
        raise _fail(f"no database at {path} (set --database-url or ANSHIN_DATABASE_URL)")
    db = Database.from_settings(settings)
    try:
        if not inspect(db.engine).has_table("audit_log"):
            raise _fail(f"{_safe_url(settings.database_url)} has no audit_log table; run `anshin db upgrade`")
        typer.echo(f"verifying audit chain in {_safe_url(settings.database_url)} ...", err=True)
        with db.read_session() as session:
            result = verify(session)
    except SQLAlchemyError as e:
        raise _fail(f"cannot read the audit log: {e}") from None
    finally:
        db.dispose()
    if not result.ok:
        typer.secho(
            f"audit chain BROKEN at seq {result.first_bad_seq}: {result.reason} "
            f"({result.checked} entries before it are intact)",
            fg=typer.colors.RED,
        )
        raise typer.Exit(1)
    head = f"head seq {result.head_seq}, hash {result.head_hash}" if result.head_seq else "empty chain"
    typer.echo(f"audit chain intact: {result.checked} entries checked; {head}")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema to the latest migration (creates a fresh SQLite file)."""
    from services.central.db.migrate import current_revision, upgrade
    from services.central.db.session import Database

    settings = _settings(database_url)
    db = Database.from_settings(settings)
    try:
        typer.echo(f"migrating {_safe_url(settings.database_url)} ...", err=True)
        upgrade(db.engine)
        typer.echo(f"database at revision {current_revision(db.engine)}")
    finally:
        db.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="unique name; it is the actor in audit entries")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="repeat: events:write, events:read, reviews:read, reviews:write, audit:read, webhooks:manage, metrics:read, admin"),
    ],
    store: Annotated[Optional[str], typer.Option("--store", help="bind the key to one store_id")] = None,  # noqa: UP045
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print its secret once (only its sha256 is stored)."""
    from services.central.auth import KeyRequestError, create_key
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database

    settings = _settings(database_url)
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        with db.unit_of_work() as session:
            created = create_key(session, name, scope, store, actor="cli")
    except KeyRequestError as e:
        raise _fail(f"cannot create key: {e}") from None
    finally:
        db.dispose()
    bound = f", store {created.store_id}" if created.store_id else ""
    typer.echo(f"created key {created.name!r} (id {created.id}; scopes {', '.join(created.scopes)}{bound})", err=True)
    typer.echo("secret (shown once; send as 'Authorization: Bearer <secret>'):", err=True)
    typer.echo(created.secret)


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Option("--name", help="name of the key to revoke")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key by name; requests with it get 401 from then on."""
    from services.central.auth import revoke_key
    from services.central.db.session import Database

    db = Database.from_settings(_settings(database_url))
    try:
        with db.unit_of_work() as session:
            revoked = revoke_key(session, name, actor="cli")
    finally:
        db.dispose()
    if not revoked:
        raise _fail(f"no active key named {name!r}", code=1)
    typer.echo(f"revoked key {name!r}")
