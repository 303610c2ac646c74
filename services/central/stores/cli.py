"""``anshin stores set|list``: privacy profile and country of each store (audited)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

stores_app = typer.Typer(help="Stores: privacy profile (minimal, standard, identified) and country.", no_args_is_help=True)

DatabaseUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--database-url", help="SQLAlchemy URL; default: ANSHIN_DATABASE_URL or sqlite:///var/central.db"),
]


@stores_app.command("set")
def stores_set(
    store: Annotated[str, typer.Option("--store", help="store_id, as the edge config names it")],
    privacy: Annotated[str, typer.Option("--privacy", help="minimal, standard or identified")],
    country: Annotated[str, typer.Option("--country", help="two-letter code; JP makes the dashboard Japanese")] = "JP",
    name: Annotated[Optional[str], typer.Option("--name", help="display name")] = None,  # noqa: UP045
    database_url: DatabaseUrl = None,
) -> None:
    """Register a store or change its profile."""
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings
    from services.central.stores import set_profile

    db = Database.from_settings(Settings(database_url=database_url) if database_url else Settings())
    try:
        upgrade(db.engine)
        with db.unit_of_work() as session:
            changed = set_profile(session, store, privacy, country, name, actor="cli")
    except ValueError as e:
        typer.secho(f"cannot set store {store!r}: {e}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(f"store {store!r}: privacy {privacy}, country {country.upper()}" + ("" if changed else " (unchanged)"))


@stores_app.command("list")
def stores_list(database_url: DatabaseUrl = None) -> None:
    """Registered stores: id, profile, country, name."""
    from sqlalchemy import select

    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.db.tables import StoreRow
    from services.central.settings import Settings

    db = Database.from_settings(Settings(database_url=database_url) if database_url else Settings())
    try:
        upgrade(db.engine)
        with db.read_session() as session:
            rows = session.scalars(select(StoreRow).order_by(StoreRow.store_id)).all()
    finally:
        db.dispose()
    for r in rows:
        typer.echo(f"{r.store_id}\t{r.privacy_profile}\t{r.country}\t{r.name or ''}")
