"""``anshin checkout erase-inactive``: crypto-shred members who have not visited for 12 months, as
the consent text promises (run it daily from cron or the operator's scheduler; audited per member)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer


def erase_inactive_command(
    days: Annotated[int, typer.Option("--days", min=1, help="days without an enrolment or exit")] = 365,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list them; change nothing")] = False,
    database_url: Annotated[Optional[str], typer.Option("--database-url", help="default: ANSHIN_DATABASE_URL")] = None,  # noqa: UP045
) -> None:
    """Erase members with no visit in --days: their keys are deleted, templates unreadable. Prints JSON."""
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings
    from services.central.usecases.checkout.service import erase_inactive

    settings = Settings(database_url=database_url) if database_url else Settings()
    db = Database.from_settings(settings)
    try:
        upgrade(db.engine)
        with db.unit_of_work() as session:
            erased = erase_inactive(session, days=days, dry_run=dry_run)
    finally:
        db.dispose()
    typer.echo(json.dumps({"days": days, "dry_run": dry_run, "members": erased}, sort_keys=True))
