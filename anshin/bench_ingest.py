"""``anshin bench ingest``: sustained ingest into central's database over HTTP or MQTT.

Simulated edges (``--edges``), each with its own durable outbox prefilled with its share of
``--events`` (not timed), drain through the real edge publishers (:class:`HttpPublisher` /
:class:`MqttPublisher`) into a central started for the run in its own process
(``uvicorn`` for HTTP, ``python -m services.central.mqtt.cli mqtt`` for MQTT), so the server,
the database and the load generator compete for the CPUs as they would on one box.

``--workers N`` scales central out on the box: HTTP runs ``uvicorn --workers N``; MQTT starts N
ingest worker processes in one shared subscription (``$share/<group>/...``), so the broker hands
each message to one of them. The run starts publishing once every worker has stored a probe
event (each is connected and subscribed). docs/SCALING.md holds the figures.

Printed figures (``--json``):

* ``events_per_s``: events / seconds from the first publish until the database holds them all;
* ``p50_ms`` / ``p99_ms``: per event, central's ``received_at`` minus the moment its batch left
  the edge publisher (end to end, queueing at central included);
* ``lost``: generated events not in the database at the end; ``duplicates``: events the ingest
  audit entries list as stored more than once (redeliveries acknowledged as duplicates are
  expected and reported separately as ``redelivered``);
* ``unacknowledged``: events still in the edge outboxes a while after central stored them all
  (central's acknowledgement never reached the edge; over MQTT an edge deletes an event only on
  central's ``_ack`` message, never on the broker's PUBACK).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100).

    >>> percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50), percentile([5.0, 1.0, 3.0, 2.0, 4.0], 99)
    (3.0, 5.0)
    """
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


@contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``url``, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    if base.get_backend_name() != "postgresql":
        raise typer.BadParameter("--throwaway needs a postgresql URL", param_hint="--database-url")
    name = f"anshin_bench_{secrets.token_hex(4)}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def central_process(argv: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"central exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"central did not answer /healthz within {timeout_s} s")


def make_events(store: str, camera: str, n: int) -> list[Any]:
    from services.contract import Event

    now = datetime.now(timezone.utc)
    return [
        Event(type="zone.occupancy", use_case="F", store_id=store, camera_id=camera, occurred_at=now,
              payload={"zone": "aisle", "count": i % 17, "capacity": 12})
        for i in range(n)
    ]


def run_bench(
    events: int, transport: str, database_url: str, *, edges: int = 4, batch: int | None = None,
    mqtt_url: str = "mqtt://127.0.0.1:1883", timeout_s: float = 600.0, progress: bool = True, workers: int = 1,
) -> dict[str, Any]:
    """Run one benchmark against ``database_url`` (migrated here) and return the figures."""
    from sqlalchemy import select, text

    from edge.outbox import Outbox
    from edge.publish.http import HttpPublisher
    from edge.publish.mqtt import MqttPublisher
    from services.central.auth import create_key
    from services.central.db.migrate import upgrade
    from services.central.db.session import Database
    from services.central.db.tables import AuditEntry
    from services.central.mqtt.settings import MqttSettings
    from services.central.settings import Settings

    def say(msg: str) -> None:
        if progress:
            typer.echo(msg, err=True)

    tag = secrets.token_hex(4)
    store = f"bench-{tag}"
    settings = Settings(database_url=database_url)
    db = Database.from_settings(settings)
    upgrade(db.engine)
    with db.unit_of_work() as s:
        key = create_key(s, f"bench-{tag}", ["events:write"], actor="bench").secret
        before_seq = s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
    tmp = Path(tempfile.mkdtemp(prefix="anshin-bench-"))
    env = {"ANSHIN_DATABASE_URL": database_url, "ANSHIN_RATE_LIMIT_PER_S": "1000000", "ANSHIN_RATE_LIMIT_BURST": "1000000",
           "ANSHIN_LOG_LEVEL": "WARNING"}
    sent_at: dict[str, float] = {}
    sent_lock = threading.Lock()

    def on_send(ids: list[str]) -> None:
        t = time.time()
        with sent_lock:
            for i in ids:
                sent_at.setdefault(i, t)

    class TimedHttpPublisher(HttpPublisher):
        def _post(self, items):  # type: ignore[no-untyped-def]
            on_send([i.event_id for i in items])
            return super()._post(items)

    say(f"bench ingest: {events} events over {transport} from {edges} edges, {workers} central workers, into "
        f"{db.engine.url.render_as_string(hide_password=True)}")
    outboxes = []
    per_edge = [events // edges + (1 if k < events % edges else 0) for k in range(edges)]
    for k, n in enumerate(per_edge):
        box = Outbox(tmp / f"edge-{k}.sqlite")
        for start in range(0, n, 5000):
            box.append(make_events(store, f"cam-{k}", min(5000, n - start)))
        outboxes.append(box)
    ids = {item.event_id for box in outboxes for item in box.peek(events + 1)}
    say(f"prefilled {len(ids)} events in {edges} outboxes")

    port = free_port()
    argvs: list[list[str]] = []
    if transport == "http":
        argvs.append([sys.executable, "-m", "uvicorn", "--factory", "services.central.api.app:build_app_from_env",
                      "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
                      "--workers", str(workers)])
    else:
        ms = MqttSettings(url=mqtt_url)
        # One process per worker, all in one share group: the broker gives each message to one of them.
        argvs += [[sys.executable, "-m", "services.central.mqtt.cli", "mqtt", "--database-url", database_url,
                   "--mqtt-url", mqtt_url, "--client-id", f"bench-ingest-{tag}-{w}", "--no-migrate"]
                  for w in range(workers)]
        env.update({"ANSHIN_MQTT_SHARE_GROUP": f"bench-{tag}", "ANSHIN_MQTT_SESSION_EXPIRY_S": "60"})
    publishers: list[Any] = []
    threads: list[threading.Thread] = []
    stop = threading.Event()
    log_paths = [tmp / f"central-{w}.log" for w in range(len(argvs))]
    try:
        with ExitStack() as central:
            procs = [central.enter_context(central_process(argv, env, log_path))
                     for argv, log_path in zip(argvs, log_paths, strict=True)]
            proc, log_path = procs[0], log_paths[0]
            if transport == "http":
                _wait_http(f"http://127.0.0.1:{port}", 60, proc, log_path)
                for box in outboxes:
                    publishers.append(TimedHttpPublisher(box, f"http://127.0.0.1:{port}", key, batch_size=batch or 100,
                                                         retry_initial_s=0.2, retry_max_s=2.0))
            else:
                for k, box in enumerate(outboxes):
                    p = MqttPublisher(box, ms.host, ms.port, f"bench-edge-{tag}-{k}", batch_size=batch or 500,
                                      session_expiry_s=60, retry_initial_s=0.2, retry_max_s=2.0)
                    p.on_send = on_send
                    publishers.append(p)
                _wait_subscribed(db, store, publishers[0], procs, log_paths,
                                 {f"mqtt:{argv[argv.index('--client-id') + 1]}" for argv in argvs}, before_seq)
            say("central up; publishing")
            started = time.time()
            for p in publishers:
                t = threading.Thread(target=p.run, args=(stop,), daemon=True)
                t.start()
                threads.append(t)
            count = 0
            last_note = started
            with db.engine.connect() as conn:
                while time.time() - started < timeout_s:
                    count = int(conn.execute(text("SELECT count(*) FROM events WHERE store_id = :s AND camera_id <> 'probe'"),
                                             {"s": store}).scalar_one())
                    conn.commit()
                    if count >= len(ids):
                        break
                    for p_, log_ in zip(procs, log_paths, strict=True):
                        if p_.poll() is not None:
                            raise RuntimeError(f"central exited: {log_.read_text()[-2000:]}")
                    if time.time() - last_note > 5:
                        last_note = time.time()
                        say(f"  {count}/{len(ids)} stored ({count / (last_note - started):.0f} events/s)")
                    time.sleep(0.05)
            elapsed = time.time() - started
            # Stored is not the end: each edge must also hear so, and empty its outbox.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(box.depth() for box in outboxes):
                time.sleep(0.05)
            unacknowledged = sum(box.depth() for box in outboxes)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for p in publishers:
            p.close()
        for box in outboxes:
            box.close()
        shutil.rmtree(tmp, ignore_errors=True)

    with db.read_session() as s:
        rows = s.execute(text("SELECT event_id, received_at FROM events WHERE store_id = :s AND camera_id <> 'probe'"),
                         {"s": store}).all()
        mentions = 0
        for (details,) in s.execute(select(AuditEntry.details).where(
                AuditEntry.seq > before_seq, AuditEntry.action == "events.ingest")):
            mentions += sum(1 for i in details.get("stored", []) if i in ids)
    db.dispose()
    stored = {str(r[0]) for r in rows}
    latencies = []
    for event_id, received_at in rows:
        t = sent_at.get(str(event_id))
        if t is not None:
            ts = received_at if isinstance(received_at, datetime) else datetime.fromisoformat(str(received_at))
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=timezone.utc)
            latencies.append(max(0.0, (ts.timestamp() - t) * 1000))
    redelivered = sum(p.stats.duplicates for p in publishers)
    return {
        "transport": transport,
        "events": events,
        "edges": edges,
        "workers": workers,
        "batch": batch or (100 if transport == "http" else 500),
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(len(stored & ids) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "lost": len(ids - stored),
        "duplicates": mentions - len(stored & ids),
        "redelivered": redelivered,
        "unacknowledged": unacknowledged,
    }


def _wait_subscribed(db: Any, store: str, publisher: Any, procs: list[subprocess.Popen[bytes]], log_paths: list[Path],
                     actors: set[str], after_seq: int) -> None:
    """Publish probe events until every ingest worker (audit actor ``mqtt:<client id>``) has stored
    one: each is connected and subscribed, so the share group spreads the load from the start."""
    from sqlalchemy import select, text

    from services.central.db.tables import AuditEntry
    from services.contract import Event, mqtt_topic

    publisher.wait_connected(10)
    deadline = time.monotonic() + 120  # worker processes start slowly on a loaded box
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for proc, log_path in zip(procs, log_paths, strict=True):
            if proc.poll() is not None:
                raise RuntimeError(f"ingest worker exited: {log_path.read_text()[-2000:]}")
        for _ in actors:  # one probe per worker and round: the broker deals them out in turn
            probe = Event(type="zone.occupancy", use_case="F", store_id=store, camera_id="probe",
                          occurred_at=datetime.now(timezone.utc), payload={"zone": "probe", "count": 0, "capacity": 1})
            publisher._client.publish(mqtt_topic(probe), probe.model_dump_json(), qos=1)
        time.sleep(0.5)
        with db.engine.connect() as conn:
            if not conn.execute(text("SELECT count(*) FROM events WHERE store_id = :s AND camera_id = 'probe'"),
                                {"s": store}).scalar_one():
                continue
            seen = set(conn.execute(select(AuditEntry.actor).where(
                AuditEntry.seq > after_seq, AuditEntry.action == "events.ingest").distinct()).scalars())
            if actors <= seen:
                return
    raise RuntimeError(f"not every MQTT ingest worker stored a probe event within 120 s: {sorted(actors - seen)} did not")


def bench_ingest(
    events: Annotated[int, typer.Option("--events", min=1, help="events to ingest")] = 20_000,
    transport: Annotated[str, typer.Option("--transport", help="http or mqtt")] = "http",
    database_url: Annotated[str, typer.Option("--database-url", help="PostgreSQL (or SQLite) URL to ingest into")] = DEFAULT_PG,
    throwaway: Annotated[bool, typer.Option("--throwaway/--in-place", help="create a fresh database on that server and drop it after")] = True,
    edges: Annotated[int, typer.Option("--edges", min=1, max=64, help="simulated edge publishers")] = 4,
    batch: Annotated[Optional[int], typer.Option("--batch", min=1, max=5000, help="events per POST / per PUBACK wait")] = None,  # noqa: UP045
    mqtt_url: Annotated[str, typer.Option("--mqtt-url", help="broker for --transport mqtt; 'own': start a throwaway Mosquitto with the shipped limits")] = "own",
    as_json: Annotated[bool, typer.Option("--json", help="print only the JSON figures")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="central ingest processes: uvicorn --workers N (http), N ingest workers in one shared subscription (mqtt)")] = 1,
) -> None:
    """Sustained ingest throughput and latency into central's database; prints events_per_s, p50_ms, p99_ms, lost, duplicates."""
    if transport not in ("http", "mqtt"):
        raise typer.BadParameter("must be http or mqtt", param_hint="--transport")
    from contextlib import nullcontext

    from services.central.mqtt.local_broker import LocalBroker

    with ExitStack() as stack:
        url = stack.enter_context(throwaway_database(database_url) if throwaway and database_url.startswith("postgresql")
                                  else nullcontext(database_url))
        broker_url = mqtt_url
        if transport == "mqtt" and mqtt_url == "own":
            broker_url = stack.enter_context(LocalBroker()).url
        result = run_bench(events, transport, url, edges=edges, batch=batch, mqtt_url=broker_url, workers=workers)
        result["broker"] = "own (shipped limits)" if mqtt_url == "own" and transport == "mqtt" else (
            broker_url if transport == "mqtt" else None)
    if as_json:
        typer.echo(json.dumps({k: result[k] for k in ("events_per_s", "p50_ms", "p99_ms", "lost", "duplicates")}
                              | {k: v for k, v in result.items() if k not in ("events_per_s", "p50_ms", "p99_ms", "lost", "duplicates")}))
    else:
        typer.echo(json.dumps(result, indent=2))
