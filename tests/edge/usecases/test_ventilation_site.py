"""The demo's ventilation wiring end to end: the simulated air handler (a process) whose occupants
follow F's counts, the agent, its durable outbox published to a real central (uvicorn, HTTP) and
the HTTP command channel. CO₂ follows occupancy in what central stores."""

from __future__ import annotations

import time
from pathlib import Path

from edge_builders import CentralServer
from sqlalchemy import select

from edge.paths import PROJECT_ROOT
from edge.usecases.ventilation.config import load
from edge.usecases.ventilation.runner import VentilationSite
from services.central.auth import create_key
from services.central.db.session import Database
from services.central.db.tables import EventRow

SPEED = 1200.0


def _states(db: Database, zone: str) -> list[dict]:
    with db.read_session() as s:
        rows = s.scalars(select(EventRow).where(EventRow.type == "ventilation.zone_state").order_by(EventRow.occurred_at))
        return [r.payload for r in rows if r.payload["zone"] == zone]


def _wait(db: Database, zone: str, check, timeout_s: float = 20.0) -> dict:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = _states(db, zone)
        if states and check(states[-1]):
            return states[-1]
        time.sleep(0.2)
    raise AssertionError(f"{zone}: not reached within {timeout_s} s; last {(_states(db, zone) or [None])[-1]}")


def test_demo_site_reports_co2_following_f_counts(tmp_path: Path) -> None:
    central = CentralServer(tmp_path / "central").start()
    db = Database.from_settings(central.settings)
    with db.unit_of_work() as s:
        key = create_key(s, "ahu-demo", ["events:write"], "demo-store", actor="test").secret
    counts = {("mall", "concourse"): 50.0, ("pets-aisle", "plaza"): 2.0, ("pets-aisle", "crossing"): 1.0}
    site = VentilationSite(load(PROJECT_ROOT / "config" / "demo-store-ventilation.yaml"), central_url=central.url,
                           api_key=key, data_dir=tmp_path / "edge", count=lambda cam, zone: counts.get((cam, zone)),
                           simulate_speed=SPEED, command_wait_s=0.5)
    try:
        site.start()
        # 50 people: CO₂ rises and the loop opens up to at least 30 m³/h each (after its ramp)
        busy = _wait(db, "sales-floor", lambda p: p["occupants"] == 50.0 and p["co2_ppm"] > 650 and p["airflow_m3h"] >= 50 * 30)
        assert busy["mode"] == "dcv" and busy["co2_ppm"] < 1000
        plaza = _wait(db, "entrance-plaza", lambda p: p["occupants"] == 3.0)  # plaza + crossing (+ no west-path count)
        assert plaza["co2_ppm"] is not None
        counts[("mall", "concourse")] = 0.0  # the shop empties
        quiet = _wait(db, "sales-floor", lambda p: p["occupants"] == 0.0 and p["airflow_m3h"] < busy["airflow_m3h"] / 2)
        assert quiet["co2_ppm"] < 1000
    finally:
        site.stop()
        db.dispose()
        central.stop()
    assert site.simulator is None or site.simulator.proc is None
