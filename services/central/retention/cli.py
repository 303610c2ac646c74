"""``anshin retention run [--dry-run] [--json]``: purge what is past its retention now.

Central also purges on its own every ``ANSHIN_RETENTION_INTERVAL_S`` (:mod:`.schedule`); this
command is for an operator, cron, or a first look with ``--dry-run``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Optional

import typer

retention_app = typer.Typer(help="Retention: purge events, review items and pictures past their time.",
                            no_args_is_help=True)

DatabaseUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--database-url", help="SQLAlchemy URL; default: ANSHIN_DATABASE_URL or sqlite:///var/central.db"),
]


@retention_app.callback()
def _group() -> None:
    """Retention: purge events, review items and pictures past their time."""


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would go; change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Purge once and print what was purged (events, review items, decisions, pictures, partitions)."""
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.retention.purge import run
    from services.central.settings import Settings
    from services.central.snapshots.service import blob_store

    settings = Settings(database_url=database_url) if database_url else Settings()
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        report = run(db, blob_store(settings.data_dir), settings, dry_run=dry_run)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(asdict(report), sort_keys=True))
        return
    verb = "would purge" if dry_run else "purged"
    counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in report.counts().items())
    typer.echo(f"retention {verb}: {counts}")
    if report.partitions_dropped:
        typer.echo(f"partitions dropped: {', '.join(report.partitions_dropped)}")
    if report.partitions_created:
        typer.echo(f"partitions created ahead: {', '.join(report.partitions_created)}")
