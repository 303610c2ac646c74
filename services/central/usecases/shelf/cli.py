"""``anshin shelf ...``: the restock process, a simulated AMR, back-room stock counts."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from services.central.usecases.shelf.config import ShelfConfigError, load_config

shelf_app = typer.Typer(help="Use case I: shelf gaps to restock tasks, robots over VDA 5050.", no_args_is_help=True)
DEFAULT_CONFIG = Path("config/shelf-demo-store.yaml")


def _config(path: Path):  # noqa: ANN202 - ShelfConfig
    try:
        return load_config(path)
    except ShelfConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@shelf_app.command("run")
def shelf_run(
    config: Annotated[Path, typer.Option(help="restock config YAML")] = DEFAULT_CONFIG,
    database_url: Annotated[str | None, typer.Option(help="central's database (default: ANSHIN_DATABASE_URL)")] = None,
    mqtt_host: Annotated[str, typer.Option(help="MQTT broker of the robots")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option()] = 1883,
) -> None:
    """Run the restock loop until SIGINT/SIGTERM: shelf events -> tasks -> robot orders or staff."""
    from services.central.background import run_until_signalled, settings_or_exit
    from services.central.db.session import Database
    from services.central.usecases.shelf.controller import RestockController
    from services.central.usecases.shelf.runner import RestockLoop
    from services.central.usecases.shelf.vda5050.fleet import Fleet

    cfg = _config(config)
    db = Database.from_settings(settings_or_exit(database_url))
    try:
        fleet = Fleet(mqtt_host, mqtt_port, cfg.mqtt_prefix, cfg.manufacturer,
                      client_id=f"anshin-shelf-{cfg.store_id}").start()
    except (OSError, ConnectionError) as exc:
        typer.echo(f"error: MQTT broker {mqtt_host}:{mqtt_port}: {exc}", err=True)
        raise typer.Exit(2) from None
    loop = RestockLoop(db, RestockController(cfg, fleet), fleet)
    try:
        run_until_signalled(loop.run, "restock", lambda: f"restock: {loop.rounds} rounds, {loop.errors} failed", 30.0)
    finally:
        fleet.stop()
        db.dispose()


@shelf_app.command("robot")
def shelf_robot(
    serial: Annotated[str, typer.Option(help="VDA 5050 serial number")] = "amr-1",
    manufacturer: Annotated[str, typer.Option()] = "anshin-sim",
    fail: Annotated[str | None, typer.Option(help="pick | drive | offline")] = None,
    fail_after: Annotated[int, typer.Option(help="orders done right before the failure mode applies")] = 0,
    battery: Annotated[float, typer.Option(min=0, max=100)] = 100.0,
    mqtt_host: Annotated[str, typer.Option()] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option()] = 1883,
    prefix: Annotated[str, typer.Option(help="topic prefix in front of uagv/v2/...")] = "",
) -> None:
    """A simulated AMR (VDA 5050 over MQTT) until Ctrl-C."""
    from services.central.usecases.shelf.vda5050.sim import SimulatedAMR

    if fail not in (None, "pick", "drive", "offline"):
        raise typer.BadParameter(f"unknown failure mode {fail!r}; pick, drive or offline")
    robot = SimulatedAMR(serial, mqtt_host, mqtt_port, prefix, manufacturer, battery=battery, fail=fail,  # type: ignore[arg-type]
                         fail_after=fail_after).start()
    stop = threading.Event()
    typer.echo(f"simulated AMR {serial} online (Ctrl-C to stop)", err=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        robot.stop()


@shelf_app.command("stock")
def shelf_stock(
    counts: Annotated[list[str], typer.Argument(help="SKU=UNITS, e.g. repellent-spray=24")],
    config: Annotated[Path, typer.Option(help="restock config YAML (names the store and its SKUs)")] = DEFAULT_CONFIG,
    database_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Set back-room stock counts (J's inventory table) for the store's SKUs."""
    from services.central.background import settings_or_exit
    from services.central.db.session import Database
    from services.central.usecases.shelf.restock import set_stock

    cfg = _config(config)
    parsed: dict[str, float] = {}
    for item in counts:
        sku, _, units = item.partition("=")
        if sku not in cfg.skus:
            raise typer.BadParameter(f"unknown SKU {sku!r}; the config lists {sorted(cfg.skus)}")
        try:
            parsed[sku] = float(units)
        except ValueError:
            raise typer.BadParameter(f"{item!r}: expected SKU=UNITS with a number") from None
        if parsed[sku] < 0:
            raise typer.BadParameter(f"{item!r}: stock cannot be negative")
    db = Database.from_settings(settings_or_exit(database_url))
    try:
        with db.unit_of_work() as session:
            for sku, units in parsed.items():
                set_stock(session, cfg.store_id, sku, units, datetime.now(timezone.utc))
    finally:
        db.dispose()
    typer.echo(json.dumps({"store_id": cfg.store_id, "stock": parsed}))
