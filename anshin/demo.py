"""``anshin demo``: the embedded default in one process.

Central (FastAPI on SQLite, served by uvicorn in a thread) and one edge worker per camera of the
demo store (real detector on real video), talking over HTTP exactly as a deployment does: the
worker writes events to its durable outbox and its publisher posts them with a store-bound API
key. This module is a composition root like ``anshin.cli``: it wires edge and central together
but neither of them imports the other.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from edge.paths import PROJECT_ROOT

log = logging.getLogger("anshin.demo")

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "demo-store.yaml"
DEMO_KEY_ENV = "ANSHIN_DEMO_EDGE_KEY"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class CentralServer:
    """Central's app under uvicorn in a background thread; ``stop()`` shuts it down cleanly."""

    def __init__(self, app, host: str, port: int) -> None:  # noqa: ANN001 - FastAPI app
        import uvicorn

        self.url = f"http://{host}:{port}"
        # Open dashboards hold server-sent event streams; stop waiting for them after 2 s on shutdown.
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                                     timeout_graceful_shutdown=2))
        self._thread = threading.Thread(target=self._server.run, name="central", daemon=True)

    def start(self, timeout_s: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"central did not start on {self.url} (is the port taken?)")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@dataclass
class DemoResult:
    store_id: str
    central_url: str
    database_url: str
    frames: int
    events_produced: int
    events_by_type: dict[str, int]
    events_in_central: int
    outbox_depth: int
    dead_letters: int
    elapsed_s: float


def _edge_key(app, store_id: str) -> str:  # noqa: ANN001
    """A fresh store-bound ingest key for this demo run (only its hash is stored)."""
    from services.central.auth import create_key

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    with app.state.db.unit_of_work() as session:
        return create_key(session, f"demo-edge-{store_id}-{stamp}", ["events:write"], store_id, actor="demo").secret


#: Dashboard accounts the demo creates (or resets) on every start: (name, role).
DEMO_ACCOUNTS = (("demo", "staff"), ("demo-manager", "manager"), ("demo-auditor", "auditor"))


def _demo_accounts(app, store, password: str | None) -> dict[str, str]:  # noqa: ANN001
    """Register the demo store's privacy profile and (re)create the demo accounts; name → password.

    Passwords are new random ones on each start unless ``password`` is given (tests)."""
    from services.central.stores import set_profile
    from services.central.users.cli import generate_password
    from services.central.users.service import ensure_user

    accounts = {name: password or generate_password() for name, _ in DEMO_ACCOUNTS}
    with app.state.db.unit_of_work() as session:
        set_profile(session, store.store_id, store.privacy_profile, "JP", "Demo store (PETS 2009)", actor="demo")
        for name, role in DEMO_ACCOUNTS:
            ensure_user(session, name, accounts[name], role, actor="demo")
    return accounts


def _simulated_sensors(store) -> list:  # noqa: ANN001 - StoreConfig
    """The demo has no devices: serve each Modbus sensor on 127.0.0.1 that reads the simulated air
    sensor's register map with one (60x time, so CO2 rises over 1000 ppm within a minute). A port
    already taken is logged and skipped."""
    from edge.usecases.comfort.simulate import REGISTERS, SimulatedAirSensor

    started = []
    for sensor in store.sensors:
        if getattr(sensor, "kind", None) != "modbus" or sensor.host not in ("127.0.0.1", "localhost"):
            continue
        if [r.model_dump(include={"address", "data_type", "quantity"}) for r in sensor.registers] == \
                [{k: r[k] for k in ("address", "data_type", "quantity")} for r in REGISTERS]:
            try:
                started.append(SimulatedAirSensor(port=sensor.port, speed=60.0).start())
            except RuntimeError as exc:
                log.warning("sensor %s: %s", sensor.id, exc)
    return started


def _floor_plan(app, store, config_path: Path) -> None:  # noqa: ANN001
    """Use case B: load ``floors/<store_id>.yaml`` next to the store config into central, if there is one."""
    from services.central.usecases.floor.plan import load_plan
    from services.central.usecases.floor.store import set_plan

    path = config_path.resolve().parent / "floors" / f"{store.store_id}.yaml"
    if path.is_file():
        with app.state.db.unit_of_work() as session:
            set_plan(session, load_plan(path), actor="demo")  # FloorPlanError names the problem before anything runs


def _ventilation(app, store, config_path: Path, data_dir: Path, url: str):  # noqa: ANN001, ANN202
    """Use case G: ``<store_id>-ventilation.yaml`` next to the store config runs against a simulated
    air handler (a process, 60x time) whose occupants are F's live counts; None without the file."""
    path = config_path.resolve().parent / f"{store.store_id}-ventilation.yaml"
    if not path.is_file():
        return None
    from edge.usecases.ventilation.config import load
    from edge.usecases.ventilation.runner import VentilationSite

    def count(camera: str, zone: str) -> float | None:  # F's live count of a camera's zone
        worker = getattr(app.state, "edge_workers", {}).get(camera)
        for analyzer in getattr(worker, "analyzers", []):
            counts = analyzer.live_state().get("zone_counts", {}) if hasattr(analyzer, "live_state") else {}
            if zone in counts:
                return float(counts[zone])
        return None

    return VentilationSite(load(path), central_url=url, api_key=os.environ[DEMO_KEY_ENV], count=count,
                           data_dir=data_dir.resolve() / "ventilation", simulate_speed=60.0).start()


def _shelf(app, store, config_path: Path, data_dir: Path, url: str):  # noqa: ANN001, ANN202
    """Use case I: ``shelf-<store_id>.yaml`` with a ``demo:`` section beside the store config adds its
    shelf camera (photos as an MJPEG stream), a simulated AMR over the local MQTT broker and the restock
    loop (``anshin.shelf_demo``); None without the file, or (logged) when a piece cannot start."""
    path = config_path.resolve().parent / f"shelf-{store.store_id}.yaml"
    if not path.is_file():
        return None
    from anshin.shelf_demo import ShelfDemo

    try:
        pieces = ShelfDemo(path)
    except (OSError, ValueError) as exc:
        log.warning("shelf demo not started: %s", exc)
        return None
    try:
        return pieces.start(app, url, data_dir)
    except (OSError, ConnectionError, ValueError) as exc:
        pieces.stop()
        log.warning("shelf demo not started: %s", exc)
        return None


def _count_events(app, store_id: str) -> int:  # noqa: ANN001
    from sqlalchemy import func, select

    from services.central.db.tables import EventRow

    with app.state.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(EventRow).where(EventRow.store_id == store_id)) or 0)


def run_demo(
    config_path: Path = DEFAULT_CONFIG,
    *,
    data_dir: Path = Path("var"),
    host: str = "127.0.0.1",
    port: int = 8000,
    headless: bool = False,
    max_frames: int | None = None,
    stop_event: threading.Event | None = None,
    demo_password: str | None = None,
    shelf: bool = False,
) -> DemoResult:
    """Start central and the demo store's edge workers; return when they are done.

    Central gets the store's privacy profile and the demo's dashboard accounts (see
    :data:`DEMO_ACCOUNTS`; random passwords unless ``demo_password`` is given, printed at start).
    Headless runs process ``max_frames`` frames per camera, flush the outbox and stop. Otherwise
    the workers run until ``stop_event`` is set (Ctrl-C in the CLI).
    """
    from edge.config import load_store_config
    from edge.worker import EdgeWorker
    from services.central.api.app import create_app
    from services.central.settings import Settings

    store = load_store_config(config_path)  # every problem listed before anything starts
    settings = Settings(data_dir=data_dir, host=host, port=port)
    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    server = CentralServer(app, host, port)
    server.start()
    log.info("central listening on %s (database %s)", server.url, settings.database_url)

    accounts = _demo_accounts(app, store, demo_password)
    if not headless:  # use case J: the shared retail CSVs imported and a report computed, in the background
        from services.central.usecases.insights.demo import prepare_quietly

        threading.Thread(target=prepare_quietly, args=(app.state.db, settings, store.store_id),
                         name="insights-demo", daemon=True).start()
    _floor_plan(app, store, config_path)  # the floor page and the customer route page need it
    os.environ[DEMO_KEY_ENV] = _edge_key(app, store.store_id)
    central = store.central.model_copy(update={"url": server.url, "api_key_env": DEMO_KEY_ENV})
    # The demo keeps all its state in one folder, so `--data-dir` fully separates runs.
    outbox = store.outbox.model_copy(update={"path": data_dir.resolve() / f"{store.store_id}-outbox.sqlite"})
    store = store.model_copy(update={"central": central, "outbox": outbox})

    stop = stop_event or threading.Event()
    summaries = {}
    errors: list[BaseException] = []
    started = time.monotonic()

    def run_camera(camera_id: str) -> None:
        try:
            with EdgeWorker(store, camera_id) as worker:
                app.state.edge_workers = {**getattr(app.state, "edge_workers", {}), camera_id: worker}
                summaries[camera_id] = worker.run(max_frames=max_frames, stop_event=stop)
        except BaseException as e:  # reported by the caller; a dead camera must not hang the demo
            errors.append(e)
            stop.set()

    air_sensors = _simulated_sensors(store)
    ventilation = None if headless else _ventilation(app, store, config_path, data_dir, server.url)
    shelves = _shelf(app, store, config_path, data_dir, server.url) if shelf else None
    threads = [threading.Thread(target=run_camera, args=(cid,), name=f"edge-{cid}") for cid in store.cameras]
    for t in threads:
        t.start()
    try:
        if not headless:
            typer.echo(f"Anshin demo: open {server.url} and sign in  (Ctrl-C to stop)")
            for name, role in DEMO_ACCOUNTS:
                typer.echo(f"  {role:<8} user {name:<13} password {accounts[name]}")
            typer.echo("  (new passwords on every start; add your own with `anshin users add`)")
            if ventilation is not None:
                typer.echo(f"  ventilation (simulated air handler, 60x time): {server.url}/stores/{store.store_id}/ventilation")
            if shelves is not None:
                typer.echo(f"  shelves (photo camera, simulated AMR over MQTT): {server.url}/stores/{store.store_id}/shelf")
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.5)
    except KeyboardInterrupt:
        typer.echo("stopping: finishing the current frame and flushing the outbox ...", err=True)
        stop.set()
        for t in threads:
            t.join()
    finally:
        if shelves is not None:
            shelves.stop()
        if ventilation is not None:
            ventilation.stop()
        in_central = _count_events(app, store.store_id)
        server.stop()
        for sensor in air_sensors:
            sensor.stop()
    if errors:
        raise errors[0]
    by_type: dict[str, int] = {}
    for s in summaries.values():
        for k, v in s.events_by_type.items():
            by_type[k] = by_type.get(k, 0) + v
    return DemoResult(
        store_id=store.store_id,
        central_url=server.url,
        database_url=settings.database_url,
        frames=sum(s.frames for s in summaries.values()),
        events_produced=sum(s.events for s in summaries.values()),
        events_by_type=by_type,
        events_in_central=in_central,
        outbox_depth=sum(s.outbox_depth for s in summaries.values()),
        dead_letters=sum(s.dead_letters for s in summaries.values()),
        elapsed_s=round(time.monotonic() - started, 2),
    )


def demo(
    config: Annotated[Path, typer.Option("--config", help="store config to run")] = DEFAULT_CONFIG,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="folder for the central SQLite database")] = Path("var"),
    host: Annotated[str, typer.Option(help="address central listens on")] = "127.0.0.1",
    port: Annotated[Optional[int], typer.Option(help="port; default 8000, or a free one when --headless")] = None,  # noqa: UP045
    headless: Annotated[bool, typer.Option("--headless", help="no page: process frames, flush, print a JSON summary, exit")] = False,
    max_frames: Annotated[Optional[int], typer.Option("--max-frames", min=1, help="frames per camera (headless default 300)")] = None,  # noqa: UP045
) -> None:
    """Run central and the demo store's edge worker on real video (SQLite, HTTP, one process)."""
    from edge.config import ConfigError
    from edge.sources import SourceError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "alembic"):  # one line per request or migration step drowns the progress lines
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if headless and max_frames is None:
        max_frames = 300
    if port is None:
        port = free_port(host) if headless else 8000
    try:
        result = run_demo(config, data_dir=data_dir, host=host, port=port, headless=headless, max_frames=max_frames,
                          shelf=not headless)
    except (ConfigError, SourceError, FileNotFoundError) as e:
        typer.echo(f"anshin demo: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(asdict(result), indent=2))
    if result.outbox_depth or result.dead_letters:
        typer.echo(
            f"anshin demo: {result.outbox_depth} events still in the outbox, {result.dead_letters} dead-lettered",
            err=True,
        )
        raise typer.Exit(1)
