"""Counters across processes (real processes): two processes count ingested events, a third
serves ``/metrics`` and shows their sum, beside the database gauges, when they share
``PROMETHEUS_MULTIPROC_DIR``; without it each process shows only its own counts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
