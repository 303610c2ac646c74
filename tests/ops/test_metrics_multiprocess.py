"""Counters across processes (real processes): two processes count ingested events, a third
serves ``/metrics`` and shows their sum, beside the database gauges, when they share
``PROMETHEUS_MULTIPROC_DIR``; without it each process shows only its own counts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import occupancy, wait_until

ROOT = Path(__file__).resolve().parents[2]

#: One "ingest process": counts a batch of ``n`` stored events, repeated once (duplicates).
COUNT = """
import sys
from datetime import datetime, timezone
from services.central.metrics import observe_ingest
from services.contract import Event
n = int(sys.argv[1])
now = datetime.now(timezone.utc)
events = [Event(type="zone.occupancy", use_case="F", store_id="tokyo-01", camera_id="cam-1", occurred_at=now,
                payload={"zone": "aisle", "count": 1, "capacity": 8}) for _ in range(n)]
observe_ingest("mqtt", events + events[:1], [e.event_id for e in events], now)
"""

#: The "central process": /metrics over HTTP from the app, with a metrics:read key (SQLite database).
SCRAPE = """
import sys
from fastapi.testclient import TestClient
from services.central.api.app import create_app
from services.central.auth import create_key
from services.central.settings import Settings
app = create_app(Settings(data_dir=sys.argv[1]))
with app.state.db.unit_of_work() as s:
    secret = create_key(s, "prometheus", ["metrics:read"], actor="test").secret
with TestClient(app) as c:
    r = c.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
assert r.status_code == 200, r.text
print(r.text)
app.state.db.dispose()
"""


def run(script: str, *args: str, shared: Path | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR" and not k.startswith("ANSHIN_")}
    if shared is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition (labels in any order), or None."""
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}\{{([^}}]*)\}} (\S+)", line)
        if m and dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))) == labels:
            return float(m.group(2))
    return None


@pytest.mark.timeout(300)
def test_metrics_of_a_third_process_sum_the_counts_of_two_others(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"  # created by the first process that counts
    run(COUNT, "3", shared=shared)
    run(COUNT, "4", shared=shared)
    assert len(list(shared.glob("counter_*.db"))) == 2, "one counter file per process"
    text = run(SCRAPE, str(tmp_path / "central"), shared=shared)
    assert sample(text, "anshin_ingest_events_total", transport="mqtt", result="stored") == 7.0
    assert sample(text, "anshin_ingest_events_total", transport="mqtt", result="duplicate") == 2.0
    assert sample(text, "anshin_ingest_lag_seconds_count", transport="mqtt") == 7.0
    # the database gauges are still there, once
    assert sample(text, "anshin_review_backlog", state="pending") == 0.0
    assert text.count("# TYPE anshin_review_backlog gauge") == 1


@pytest.mark.timeout(300)
def test_without_the_shared_folder_a_process_shows_only_its_own_counts(tmp_path: Path) -> None:
    run(COUNT, "3", shared=None)  # counted in a process that is gone: nobody sees it
    text = run(SCRAPE, str(tmp_path / "central"), shared=None)
    assert sample(text, "anshin_ingest_events_total", transport="mqtt", result="stored") is None
    assert sample(text, "anshin_review_backlog", state="pending") == 0.0
    assert "python_gc_objects_collected_total" in text  # the in-process registry, with its process metrics


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_anshin_serve_with_two_workers_shows_every_workers_counts_on_each_scrape(pg_url: str, tmp_path: Path) -> None:
    """``anshin serve --workers 2`` sets up ``{data_dir}/prometheus`` itself (no variable given):
    events posted on fresh connections are spread over the workers, and every scrape counts them all."""
    from services.central.auth import create_key
    from services.central.db.session import Database
    from services.central.settings import Settings

    db = Database.from_settings(Settings(database_url=pg_url))
    with db.unit_of_work() as s:
        headers = {"Authorization": f"Bearer {create_key(s, 'ops', ['events:write', 'metrics:read'], actor='test').secret}"}
    db.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR" and not k.startswith("ANSHIN_")}
    stale = tmp_path / "prometheus" / "counter_1.db"  # a previous run's file: emptied at start
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    server = subprocess.Popen([sys.executable, "-c", "from anshin.cli import app; app()", "serve", "--port", str(port),
                               "--workers", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**env, "ANSHIN_DATABASE_URL": pg_url, "ANSHIN_DATA_DIR": str(tmp_path)})
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _up(base), 60), "anshin serve did not come up"
        for _ in range(12):
            with httpx.Client() as c:  # a new connection each time: the kernel spreads them over the workers
                event = occupancy("tokyo-01").model_dump(mode="json")
                assert c.post(f"{base}/api/v1/events", json=event, headers=headers).status_code == 200
        assert not stale.exists()
        assert len(list((tmp_path / "prometheus").glob("counter_*.db"))) == 2, "one file per worker"
        for _ in range(4):
            with httpx.Client() as c:
                text = c.get(f"{base}/metrics", headers=headers).text
            assert sample(text, "anshin_ingest_events_total", transport="http", result="stored") == 12.0
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
