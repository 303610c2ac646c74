"""``anshin shelf demo``: use case I's closed loop in one process, on real photos and real services.

A simulated IP camera serves shelf photos (``media/empty_shelf``) as a live MJPEG stream; an edge
worker runs the shelf analyzer on it (the gap detector trained here) and posts ``shelf.gap`` /
``shelf.refilled`` to central over HTTP with evidence pictures; the restock loop turns gaps into
tasks and sends VDA 5050 orders over the MQTT broker (127.0.0.1:1883) to a simulated AMR; the
next photo shows the shelf refilled and the task completes. The AMR's second order fails at the
pick (configurable), so that task falls back to staff. The shelf page shows it all.

Like ``anshin.demo`` this is a composition root: it wires edge and central, which never import
each other.

    anshin shelf demo                     # until Ctrl-C; open the printed URL, /stores/demo-store/shelf
    anshin shelf demo --seconds 120       # headless: stop after 2 minutes, print a JSON summary
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import urlparse

import typer

from anshin.demo import CentralServer, _demo_accounts, _edge_key, free_port
from edge.paths import PROJECT_ROOT, media_dir

log = logging.getLogger("anshin.shelf_demo")
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "shelf-demo-store.yaml"
SHELF_KEY_ENV = "ANSHIN_SHELF_DEMO_EDGE_KEY"  # the shelf camera's own store-bound key


def _tasks(db) -> list[dict[str, Any]]:  # noqa: ANN001 - Database
    from sqlalchemy import select

    from services.central.usecases.shelf.tables import RestockTask

    with db.read_session() as session:
        rows = session.scalars(select(RestockTask).order_by(RestockTask.created_at)).all()
        return [{"sku": t.sku, "segment": t.segment, "units": t.units, "priority": t.priority, "assignee": t.assignee,
                 "robot": t.robot, "order_state": t.order_state, "fallback_reason": t.fallback_reason,
                 "state": t.state, "done_by": t.done_by, "refill_s": t.refill_s} for t in rows]


def _events(db, store_id: str) -> dict[str, int]:  # noqa: ANN001
    from sqlalchemy import func, select

    from services.central.db.tables import EventRow

    with db.read_session() as session:
        rows = session.execute(select(EventRow.type, func.count()).where(EventRow.store_id == store_id)
                               .group_by(EventRow.type)).all()
    return {t: int(n) for t, n in rows}


class ShelfDemo:
    """The shelf pieces on a running central: photo camera, edge worker, simulated AMR, restock loop.

    ``anshin shelf demo`` runs them with a central of its own; ``anshin demo`` adds them to the demo
    store when ``config/shelf-<store>.yaml`` has a ``demo:`` section.
    """

    def __init__(self, config_path: Path, mqtt_host: str = "127.0.0.1", mqtt_port: int = 1883) -> None:
        from edge.config import load_store_config
        from edge.usecases.shelf.photostream import ShelfPhotoStream
        from services.central.usecases.shelf.config import load_config

        self.cfg = load_config(config_path)
        if self.cfg.demo is None:
            raise ValueError(f"{config_path}: no demo: section (camera_config, photos)")
        self.store = load_store_config(self.cfg.demo.camera_config)
        if self.store.store_id != self.cfg.store_id:
            raise ValueError(f"{self.cfg.demo.camera_config} is store {self.store.store_id!r}, {config_path} is {self.cfg.store_id!r}")
        self.camera_id, camera = next(iter(self.store.cameras.items()))
        source = urlparse(str(camera.source))
        self.photos = ShelfPhotoStream([media_dir() / p for p in self.cfg.demo.photos], hold_s=self.cfg.demo.hold_s,
                                       host=source.hostname or "127.0.0.1", port=source.port or 80)
        self.mqtt_host, self.mqtt_port = mqtt_host, mqtt_port
        self.stop_event = threading.Event()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.loop = None
        self.fleet = None
        self.robot = None

    def start(self, app, central_url: str, data_dir: Path) -> ShelfDemo:  # noqa: ANN001 - FastAPI app
        from datetime import datetime, timezone

        from edge.worker import EdgeWorker
        from services.central.usecases.shelf.controller import RestockController
        from services.central.usecases.shelf.restock import set_stock
        from services.central.usecases.shelf.runner import RestockLoop
        from services.central.usecases.shelf.vda5050.fleet import Fleet
        from services.central.usecases.shelf.vda5050.sim import SimulatedAMR

        cfg, db = self.cfg, app.state.db
        assert cfg.demo is not None
        with db.unit_of_work() as session:
            for sku, units in cfg.demo.stock.items():
                set_stock(session, cfg.store_id, sku, units, datetime.now(timezone.utc))
        os.environ[SHELF_KEY_ENV] = _edge_key(app, self.store.store_id)
        central = self.store.central.model_copy(update={"url": central_url, "api_key_env": SHELF_KEY_ENV})
        outbox = self.store.outbox.model_copy(update={"path": data_dir.resolve() / f"{self.store.store_id}-shelf-outbox.sqlite"})
        store = self.store.model_copy(update={"central": central, "outbox": outbox})
        r = cfg.demo.robot
        self.robot = SimulatedAMR(r.serial, self.mqtt_host, self.mqtt_port, cfg.mqtt_prefix, cfg.manufacturer, fail=r.fail,
                                  fail_after=r.fail_after, speed_m_s=r.speed_m_s, action_s=r.action_s)
        self.fleet = Fleet(self.mqtt_host, self.mqtt_port, cfg.mqtt_prefix, cfg.manufacturer,
                           client_id=f"anshin-shelf-demo-{os.getpid()}")
        self.photos.start()
        self.fleet.start()
        self.robot.start()
        self.loop = RestockLoop(db, RestockController(cfg, self.fleet), self.fleet, poll_s=0.5, lookback_s=0)

        def run_camera() -> None:
            try:
                with EdgeWorker(store, self.camera_id) as worker:
                    worker.run(stop_event=self.stop_event)
            except BaseException as e:  # reported by the caller; a dead camera ends the shelf demo
                self.errors.append(e)
                self.stop_event.set()

        self.threads = [threading.Thread(target=self.loop.run, args=(self.stop_event,), name="restock", daemon=True),
                        threading.Thread(target=run_camera, name=f"edge-{self.camera_id}", daemon=True)]
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=15)
        if self.robot is not None:
            self.robot.stop()
        if self.fleet is not None:
            self.fleet.stop()
        self.photos.stop()


def run_shelf_demo(config_path: Path = DEFAULT_CONFIG, data_dir: Path = Path("var/shelf-demo"), host: str = "127.0.0.1",
                   port: int = 8000, seconds: float | None = None, mqtt_host: str = "127.0.0.1", mqtt_port: int = 1883,
                   demo_password: str | None = None, on_change=None, until=None) -> dict[str, Any]:  # noqa: ANN001
    """Run the shelf demo until ``seconds`` passed, ``until(tasks)`` holds, or Ctrl-C; its JSON summary."""
    from services.central.api.app import create_app
    from services.central.settings import Settings

    shelf = ShelfDemo(config_path, mqtt_host, mqtt_port)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, host=host, port=port)
    app = create_app(settings)
    server = CentralServer(app, host, port)
    server.start()
    db = app.state.db
    accounts = _demo_accounts(app, shelf.store, demo_password)
    try:
        shelf.start(app, server.url, data_dir)
    except BaseException:
        shelf.stop()
        server.stop()
        raise
    if seconds is None:
        typer.echo(f"Anshin shelf demo: open {server.url}/stores/{shelf.cfg.store_id}/shelf  (Ctrl-C to stop)")
        for name, role in (("demo", "staff"), ("demo-manager", "manager")):
            typer.echo(f"  {role:<8} user {name:<13} password {accounts[name]}")
    started, last = time.monotonic(), None
    try:
        while not shelf.stop_event.is_set() and (seconds is None or time.monotonic() - started < seconds):
            tasks = _tasks(db)
            if tasks != last and on_change is not None:
                on_change(round(time.monotonic() - started, 1), shelf.photos.index(), tasks)
            last = tasks
            if until is not None and until(tasks):
                break
            shelf.stop_event.wait(1.0)
    except KeyboardInterrupt:
        typer.echo("stopping ...", err=True)
    finally:
        shelf.stop()
        assert shelf.loop is not None and shelf.fleet is not None
        summary = {"store_id": shelf.cfg.store_id, "central_url": server.url,
                   "elapsed_s": round(time.monotonic() - started, 1), "events_by_type": _events(db, shelf.cfg.store_id),
                   "tasks": _tasks(db), "restock_rounds": shelf.loop.rounds, "restock_errors": shelf.loop.errors,
                   "vda5050_rejected": shelf.fleet.rejected}
        server.stop()
    if shelf.errors:
        raise shelf.errors[0]
    return summary


def shelf_demo(
    config: Annotated[Path, typer.Option("--config", help="restock config with a demo: section")] = DEFAULT_CONFIG,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="folder for central's SQLite database")] = Path("var/shelf-demo"),
    port: Annotated[Optional[int], typer.Option(help="central's port (default 8000; a free one with --seconds)")] = None,  # noqa: UP045
    seconds: Annotated[Optional[float], typer.Option(help="stop after this long and print a JSON summary")] = None,  # noqa: UP045
) -> None:
    """Use case I end to end: shelf photos -> gaps -> VDA 5050 robot or staff -> refilled on camera."""
    from edge.config import ConfigError
    from edge.sources import SourceError
    from services.central.usecases.shelf.config import ShelfConfigError

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if port is None:
        port = free_port() if seconds is not None else 8000

    def show(at: float, photo: int, tasks: list[dict[str, Any]]) -> None:
        typer.echo(json.dumps({"t_s": at, "photo": photo, "tasks": [
            {k: t[k] for k in ("sku", "assignee", "robot", "order_state", "fallback_reason", "state", "refill_s")}
            for t in tasks]}), err=True)

    try:
        summary = run_shelf_demo(config, data_dir=data_dir, port=port, seconds=seconds, on_change=show)
    except (ConfigError, SourceError, FileNotFoundError, ShelfConfigError, ValueError, ConnectionError, OSError) as e:
        typer.echo(f"anshin shelf demo: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(summary, indent=1))
