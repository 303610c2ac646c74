"""Resilience under load, each bounded in time: central down for 30 s, a broker restart, a
PostgreSQL restart. After each, every generated event is stored exactly once: present in the
events table, and listed as newly stored by exactly one ingest audit entry.

Restarts use throwaway services of the test's own (a uvicorn process, a Mosquitto with the
shipped limits, a PostgreSQL cluster in a temporary folder), never the shared ones.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from edge.outbox import Outbox
from edge.publish.http import HttpPublisher
from edge.publish.mqtt import MqttPublisher
from services.central.auth import create_key
from services.central.db.migrate import upgrade
from services.central.db.session import Database
from services.central.mqtt.local_broker import LocalBroker
from services.central.mqtt.settings import MqttSettings
from services.central.mqtt.worker import MqttIngestWorker
from services.central.settings import Settings

from .conftest import occupancy, stored_ids, stored_mentions, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Central:
    """``anshin serve``'s app in a uvicorn process that a test can kill and start again."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ANSHIN_DATABASE_URL": database_url, "ANSHIN_LOG_LEVEL": "WARNING"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "services.central.api.app:build_app_from_env",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(self._healthy, 30, 0.2), "central did not start"

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)  # a crash: no graceful shutdown
            self.proc.wait(timeout=10)
            self.proc = None


class OwnPostgres:
    """A PostgreSQL cluster in a temporary folder on a free port (run as user postgres when root)."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="anshin-pg-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=60)

    def _ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", opts, "-l", str(self.dir / "log"), "-w", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def close(self) -> None:
        try:
            self._ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    pg = OwnPostgres()
    pg.start()
    yield pg
    pg.close()


def produce(outbox: Outbox, publisher: object, store: str, rate_per_s: float, duration_s: float,
            at: dict[float, Callable[[], None]] | None = None) -> list[str]:
    """Append events at ``rate_per_s`` for ``duration_s`` (the camera side); run the actions in ``at``
    when their second comes. Returns the generated ids."""
    ids: list[str] = []
    pending = sorted((at or {}).items())
    started = time.monotonic()
    i = 0
    while (elapsed := time.monotonic() - started) < duration_s:
        while pending and elapsed >= pending[0][0]:
            pending.pop(0)[1]()
        event = occupancy(store, "cam-1", i)
        outbox.append([event])
        ids.append(str(event.event_id))
        publisher.notify()  # type: ignore[attr-defined]
        i += 1
        time.sleep(max(0.0, started + i / rate_per_s - time.monotonic()))
    for _, action in pending:
        action()
    return ids


def run_publisher(publisher: object) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run, args=(stop,), daemon=True)  # type: ignore[attr-defined]
    thread.start()
    return stop, thread


def assert_exactly_once(url: str, store: str, ids: list[str]) -> None:
    assert len(ids) == len(set(ids)) > 0
    stored = stored_ids(url, store)
    assert sorted(stored) == sorted(ids), f"lost {len(set(ids) - set(stored))}, unexpected {len(set(stored) - set(ids))}"
    assert stored_mentions(url, set(ids)) == len(ids), "an event was ingested as new more than once"


@pytest.mark.timeout(150)
def test_central_down_for_30_seconds_loses_nothing(pg_url: str, tmp_path: Path) -> None:
    db = Database.from_settings(Settings(database_url=pg_url))
    with db.unit_of_work() as s:
        key = create_key(s, "edge-resilience", ["events:write"], actor="test").secret
    db.dispose()
    central = Central(pg_url)
    central.start()
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = HttpPublisher(outbox, central.url, key, batch_size=50, retry_initial_s=0.2, retry_max_s=2.0,
                              connect_timeout_s=1.0, read_timeout_s=5.0)
    stop, thread = run_publisher(publisher)
    try:
        ids = produce(outbox, publisher, "resilience-http", rate_per_s=20, duration_s=40,
                      at={4.0: central.kill, 34.0: central.start})
        assert wait_until(lambda: outbox.depth() == 0, 30), f"{outbox.depth()} events still queued"
    finally:
        stop.set()
        thread.join(timeout=10)
        publisher.close()
        central.kill()
    assert publisher.stats.outages >= 1 and publisher.stats.failures >= 5  # it did notice the outage
    assert outbox.dead_letter_depth() == 0
    assert_exactly_once(pg_url, "resilience-http", ids)


@pytest.mark.mqtt
@pytest.mark.timeout(90)
def test_broker_restart_during_load_loses_nothing(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=pg_url)
    db = Database.from_settings(settings)
    with LocalBroker() as broker:
        ms = MqttSettings(url=broker.url, client_id="ingest-resilience", session_expiry_s=300, batch_wait_ms=20)
        worker = MqttIngestWorker(db, settings, ms)
        worker_stop = threading.Event()
        worker_thread = threading.Thread(target=worker.run, args=(worker_stop,), daemon=True)
        worker_thread.start()
        assert worker.wait_subscribed(10)
        outbox = Outbox(tmp_path / "outbox.sqlite")
        publisher = MqttPublisher(outbox, "127.0.0.1", broker.port, "edge-resilience", batch_size=100,
                                  ack_timeout_s=2.0, retry_initial_s=0.2, retry_max_s=1.0)
        stop, thread = run_publisher(publisher)
        try:
            ids = produce(outbox, publisher, "resilience-mqtt", rate_per_s=100, duration_s=12,
                          at={4.0: lambda: broker.restart(down_s=2.0)})
            assert wait_until(lambda: outbox.depth() == 0, 30), f"{outbox.depth()} events still queued"
            assert wait_until(lambda: len(stored_ids(db, "resilience-mqtt")) >= len(ids), 30)
        finally:
            stop.set()
            thread.join(timeout=10)
            publisher.close()
            worker_stop.set()
            worker_thread.join(timeout=10)
            db.dispose()
    assert worker.stats.connects >= 2, "the ingest worker should have reconnected after the restart"
    assert_exactly_once(pg_url, "resilience-mqtt", ids)


@pytest.mark.mqtt
@pytest.mark.timeout(120)
def test_postgresql_restart_during_load_loses_nothing(own_postgres: OwnPostgres, tmp_path: Path) -> None:
    url = own_postgres.url
    settings = Settings(database_url=url, db_pool_timeout_s=5)
    db = Database.from_settings(settings)
    upgrade(db.engine)
    with db.unit_of_work() as s:
        key = create_key(s, "edge-pg", ["events:write"], actor="test").secret
    central = Central(url)
    central.start()
    with LocalBroker() as broker:
        worker = MqttIngestWorker(db, settings, MqttSettings(url=broker.url, client_id="ingest-pg", batch_wait_ms=20),
                                  retry_initial_s=0.2, retry_max_s=1.0)
        worker_stop = threading.Event()
        worker_thread = threading.Thread(target=worker.run, args=(worker_stop,), daemon=True)
        worker_thread.start()
        assert worker.wait_subscribed(10)
        http_box, mqtt_box = Outbox(tmp_path / "http.sqlite"), Outbox(tmp_path / "mqtt.sqlite")
        http_pub = HttpPublisher(http_box, central.url, key, batch_size=50, retry_initial_s=0.2, retry_max_s=1.0)
        mqtt_pub = MqttPublisher(mqtt_box, "127.0.0.1", broker.port, "edge-pg", batch_size=100, retry_initial_s=0.2,
                                 retry_max_s=1.0)
        runners = [run_publisher(http_pub), run_publisher(mqtt_pub)]
        mqtt_ids: list[str] = []
        mqtt_producer = threading.Thread(
            target=lambda: mqtt_ids.extend(produce(mqtt_box, mqtt_pub, "resilience-pg-mqtt", 50, 12)), daemon=True)
        try:
            mqtt_producer.start()
            http_ids = produce(http_box, http_pub, "resilience-pg-http", 50, 12, at={4.0: own_postgres.restart})
            mqtt_producer.join(timeout=30)
            assert wait_until(lambda: http_box.depth() == 0 and mqtt_box.depth() == 0, 40)
            assert wait_until(lambda: len(stored_ids(url, "resilience-pg-mqtt")) >= len(mqtt_ids), 30)
        finally:
            for stop, thread in runners:
                stop.set()
                thread.join(timeout=10)
            http_pub.close()
            mqtt_pub.close()
            worker_stop.set()
            worker_thread.join(timeout=10)
            central.kill()
            db.dispose()
    assert worker.stats.db_retries >= 1 or http_pub.stats.failures >= 1, "the restart went unnoticed"
    assert_exactly_once(url, "resilience-pg-http", http_ids)
    assert_exactly_once(url, "resilience-pg-mqtt", mqtt_ids)
