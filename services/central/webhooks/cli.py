"""``anshin webhooks``: create, list, see dead deliveries, retry, run the dispatcher, verify a signature."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

webhooks_app = typer.Typer(help="Signed webhooks for integrators.", no_args_is_help=True)

DatabaseUrl = Annotated[Optional[str], typer.Option("--database-url", help="default: ANSHIN_DATABASE_URL")]  # noqa: UP045


def _db(database_url: str | None):  # type: ignore[no-untyped-def]
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings

    settings = Settings(database_url=database_url) if database_url else Settings()
    db = Database.from_settings(settings)
    upgrade(db.engine)
    return settings, db


@webhooks_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="unique name")],
    url: Annotated[str, typer.Option("--url", help="http(s) endpoint that receives the POSTs")],
    event_type: Annotated[list[str], typer.Option("--type", help="repeat; default: every type")] = [],  # noqa: B006
    store: Annotated[Optional[str], typer.Option("--store", help="only this store")] = None,  # noqa: UP045
    database_url: DatabaseUrl = None,
) -> None:
    """Create a webhook and print its signing secret once (needs ANSHIN_WEBHOOK_SECRET_KEY)."""
    from services.central.webhooks import service

    settings, db = _db(database_url)
    key = settings.webhook_secret_key.get_secret_value() if settings.webhook_secret_key else None
    try:
        with db.unit_of_work() as session:
            created = service.create(session, key, name, url, event_type, store, owner="cli",
                                     allow=settings.webhook_allow_hosts)
            hook_id = created.row.id
    except service.WebhookError as exc:
        typer.secho(f"cannot create webhook ({exc.field}): {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(f"created webhook {name!r} (id {hook_id}) → {url}", err=True)
    typer.echo("signing secret (shown once; verify X-Anshin-Signature with it):", err=True)
    typer.echo(created.secret)


@webhooks_app.command("list")
def list_(database_url: DatabaseUrl = None) -> None:
    """Active webhooks with their delivery counts per state, as JSON lines."""
    from sqlalchemy import func, select

    from services.central.db.tables import WebhookDelivery
    from services.central.webhooks import service

    _, db = _db(database_url)
    try:
        with db.read_session() as session:
            for hook in service.list_active(session):
                counts = dict(session.execute(select(WebhookDelivery.state, func.count())
                                              .where(WebhookDelivery.webhook_id == hook.id)
                                              .group_by(WebhookDelivery.state)).all())
                typer.echo(json.dumps({"id": hook.id, "name": hook.name, "url": hook.url, "event_types": hook.event_types,
                                       "store_id": hook.store_id, "deliveries": counts}))
    finally:
        db.dispose()


@webhooks_app.command("dead")
def dead(
    webhook_id: Annotated[int, typer.Argument(help="webhook id")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    database_url: DatabaseUrl = None,
) -> None:
    """The dead-letter view: deliveries that ran out of retries, with the last error."""
    from services.central.webhooks import service

    _, db = _db(database_url)
    try:
        with db.read_session() as session:
            rows, total = service.deliveries(session, webhook_id, "dead", limit, 0)
            for d in rows:
                typer.echo(json.dumps({"id": d.id, "event_id": str(d.event_id), "attempts": d.attempts,
                                       "last_status": d.last_status, "last_error": d.last_error,
                                       "finished_at": d.finished_at.isoformat() if d.finished_at else None}))
    finally:
        db.dispose()
    typer.echo(f"{total} dead deliveries", err=True)


@webhooks_app.command("retry")
def retry(webhook_id: Annotated[int, typer.Argument(help="webhook id")], database_url: DatabaseUrl = None) -> None:
    """Queue every dead delivery of a webhook again."""
    from services.central.webhooks import service

    _, db = _db(database_url)
    try:
        with db.unit_of_work() as session:
            n = service.retry_dead(session, webhook_id, None, actor="cli")
    finally:
        db.dispose()
    typer.echo(f"requeued {n} deliveries")


@webhooks_app.command("run")
def run(database_url: DatabaseUrl = None) -> None:
    """The dispatcher: send pending deliveries until SIGTERM/Ctrl-C (run one or more)."""
    from services.central.webhooks.dispatcher import WebhookDispatcher
    from services.contract.logs import configure_logging

    configure_logging()
    settings, db = _db(database_url)
    try:
        dispatcher = WebhookDispatcher(db, settings)
    except (RuntimeError, ValueError) as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo("webhook dispatcher running", err=True)
    try:
        dispatcher.run(stop)
    finally:
        dispatcher.close()
        db.dispose()


@webhooks_app.command("verify")
def verify(
    header: Annotated[str, typer.Option("--header", help="the X-Anshin-Signature value")],
    body: Annotated[Path, typer.Option("--body", help="file with the raw request body ('-' for stdin)")],
    secret_env: Annotated[str, typer.Option("--secret-env", help="environment variable holding the whsec_ secret")] = "ANSHIN_WEBHOOK_SECRET",
) -> None:
    """Check a received delivery: exit 0 if authentic and fresh, 1 if not (the documented check)."""
    from services.central.webhooks.signing import verify as check

    secret = os.environ.get(secret_env, "")
    if not secret:
        typer.secho(f"set {secret_env} to the webhook's signing secret", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    raw = sys.stdin.buffer.read() if str(body) == "-" else body.read_bytes()
    if not check(secret, header, raw):
        typer.echo("signature INVALID (forged, altered, wrong secret, or older than 300 s)")
        raise typer.Exit(1)
    typer.echo("signature valid")
