"""``anshin stores floor set|show``: load a store's floor plan into central (audited) and check it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

floor_app = typer.Typer(help="Floor plans (use case B): walkable graph, areas, routing settings.", no_args_is_help=True)

DatabaseUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--database-url", help="SQLAlchemy URL; default: ANSHIN_DATABASE_URL or sqlite:///var/central.db"),
]


@floor_app.command("set")
def floor_set(
    file: Annotated[Path, typer.Argument(help="floor plan YAML, e.g. config/floors/demo-store.yaml")],
    store: Annotated[str, typer.Option("--store", help="store_id; must match the file's store_id")],
    database_url: DatabaseUrl = None,
) -> None:
    """Validate a floor plan file and make it the store's plan (audited as floor.plan)."""
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings
    from services.central.usecases.floor.plan import FloorPlanError, load_plan
    from services.central.usecases.floor.store import set_plan

    try:
        plan = load_plan(file)
    except FloorPlanError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    if plan.store_id != store:
        typer.secho(f"{file}: store_id is {plan.store_id!r}, not {store!r}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    db = Database.from_settings(Settings(database_url=database_url) if database_url else Settings())
    try:
        upgrade(db.engine)
        with db.unit_of_work() as session:
            changed = set_plan(session, plan, actor="cli")
    finally:
        db.dispose()
    typer.echo(f"store {store!r}: floor plan with {len(plan.nodes)} nodes, {len(plan.edges)} edges, "
               f"{len(plan.areas)} areas" + ("" if changed else " (unchanged)"))


@floor_app.command("show")
def floor_show(
    store: Annotated[str, typer.Option("--store", help="store_id")],
    database_url: DatabaseUrl = None,
) -> None:
    """Print the store's floor plan and its live density status as JSON."""
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.settings import Settings
    from services.central.usecases.floor.service import density_out, floor_state

    db = Database.from_settings(Settings(database_url=database_url) if database_url else Settings())
    try:
        upgrade(db.engine)
        with db.read_session() as session:
            state = floor_state(session, store)
    finally:
        db.dispose()
    if state is None:
        typer.secho(f"store {store!r} has no floor plan", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    density = density_out(state).model_dump(mode="json", exclude={"cells"})
    typer.echo(json.dumps({"store_id": store, "nodes": len(state.plan.nodes), "edges": len(state.plan.edges),
                           "density": density}, indent=2, ensure_ascii=False))
