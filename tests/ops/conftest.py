"""Fixtures for operations tests: a throwaway PostgreSQL database, the central app on it, keys,
the shared Mosquitto at 127.0.0.1:1883, and helpers that count what was stored."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
import psycopg
import pytest
from central_fixtures import app, client, db, pg_admin, throwaway_database  # noqa: F401 (shared fixtures)
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select, text

from services.central.auth import create_key
from services.central.db.migrate import upgrade
from services.central.db.session import Database
from services.central.db.tables import AuditEntry
from services.central.settings import Settings
from services.contract import Event, Explanation
from services.contract.registry import spec

WEBHOOK_KEY = "test-master-key-" + "x" * 32


@pytest.fixture(scope="session")
def pg_server() -> Iterator[psycopg.Connection]:
    admin = pg_admin()
    yield admin
    admin.close()


@pytest.fixture
def pg_url(pg_server: psycopg.Connection) -> Iterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    with throwaway_database(pg_server, "anshin_ops") as url:
        database = Database.from_settings(Settings(database_url=url))
        upgrade(database.engine)
        database.dispose()
        yield url


@pytest.fixture
def settings(pg_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, database_url=pg_url, webhook_secret_key=WEBHOOK_KEY,  # type: ignore[arg-type]
                    webhook_retry_initial_s=0.05, webhook_retry_max_s=0.2, webhook_max_attempts=3)


@pytest.fixture
def key(db: Database) -> Callable[..., str]:
    """``key("name", "scope", ..., store=None)`` → a fresh API key secret."""

    def make(name: str, *scopes: str, store: str | None = None) -> str:
        with db.unit_of_work() as s:
            return create_key(s, f"{name}-{secrets.token_hex(3)}", scopes, store, actor="test").secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def occupancy(store: str, camera: str = "cam-1", i: int = 0, event_type: str = "zone.occupancy") -> Event:
    """A use case F event; an alert type (zone.overcrowded) comes for review, as its type declares."""
    review = spec(event_type).review
    return Event(type=event_type, use_case="F", store_id=store, camera_id=camera,
                 occurred_at=datetime.now(timezone.utc), payload={"zone": "aisle", "count": i % 9, "capacity": 8},
                 review_required=review, explanation=Explanation(rule="occupancy_over_capacity") if review else None)


def stored_ids(db_or_url: Database | str, store: str) -> list[str]:
    db = Database.from_settings(Settings(database_url=db_or_url)) if isinstance(db_or_url, str) else db_or_url
    try:
        with db.read_session() as s:
            return [str(r[0]) for r in s.execute(text("SELECT event_id FROM events WHERE store_id = :s"), {"s": store})]
    finally:
        if isinstance(db_or_url, str):
            db.dispose()


def stored_mentions(url: str, ids: set[str]) -> int:
    """How many times ingest audit entries list one of ``ids`` as newly stored (exactly once each if no duplicate)."""
    db = Database.from_settings(Settings(database_url=url))
    try:
        with db.read_session() as s:
            return sum(
                sum(1 for i in details.get("stored", []) if i in ids)
                for details in s.scalars(select(AuditEntry.details).where(AuditEntry.action == "events.ingest"))
            )
    finally:
        db.dispose()


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


# --------------------------------------------------------------------------- MQTT


def subscribe_and_wait(client: mqtt.Client, topic: str, qos: int = 1, timeout_s: float = 10.0) -> None:
    """Subscribe and return once the broker has answered (SUBACK, granted or refused).

    A fixed sleep after ``subscribe`` is a guess: on a loaded machine a message published right
    after it can reach the broker before the subscription does, and is then lost to this client.
    """
    answered: set[int] = set()
    ready = threading.Condition()

    def on_subscribe(_c: object, _u: object, mid: int, _reasons: object, _p: object) -> None:
        with ready:
            answered.add(mid)
            ready.notify_all()

    client.on_subscribe = on_subscribe
    _, mid = client.subscribe(topic, qos=qos)
    with ready:
        if not ready.wait_for(lambda: mid in answered, timeout_s):
            raise AssertionError(f"the broker did not answer the subscription to {topic} within {timeout_s} s")


@contextmanager
def running(worker: object, name: str = "worker") -> Iterator[object]:
    """Run an MQTT worker's ``run(stop)`` loop in a thread until the block ends; wait until it subscribed."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name=name, daemon=True)  # type: ignore[attr-defined]
    thread.start()
    try:
        assert worker.wait_subscribed(10), f"{name} did not subscribe to its broker"  # type: ignore[attr-defined]
        yield worker
    finally:
        stop.set()
        thread.join(timeout=10)


@contextmanager
def mqtt_client(client_id: str, port: int = 1883) -> Iterator[mqtt.Client]:
    """A plain MQTT 5 client on 127.0.0.1, its network loop running."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        yield c
    finally:
        c.disconnect()
        c.loop_stop()


def publish(client: mqtt.Client, topic: str, payload: bytes) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK."""
    client.publish(topic, payload, qos=1).wait_for_publish(5)


def forget_session(client_id: str, port: int = 1883) -> None:
    """Remove a persistent session from a broker (tests leave no subscribers behind on the shared one)."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    c.connect("127.0.0.1", port, clean_start=True, properties=props)
    c.loop_start()
    time.sleep(0.2)
    c.disconnect()
    c.loop_stop()
