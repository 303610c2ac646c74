"""Use case G end to end: the simulated air handler (pymodbus, real Modbus TCP), the edge agent
posting its events to central and taking commands over the HTTP long-poll channel, a manager's
infection report on the ventilation page, the two-person review, and the purge it triggers.

No purge before the second confirmation; after it the purge command (gated by the confirmed
item) changes the setpoints on the device, runs to 5 air changes, and the audit chain holds the
report, both decisions, the command and its result and the agent's setpoint changes, and verifies.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from pymodbus.client import ModbusTcpClient
from sqlalchemy import select

from edge.commands.http import HttpCommandChannel
from edge.commands.receiver import CommandReceiver
from edge.paths import PROJECT_ROOT
from edge.usecases.ventilation.agent import VentilationAgent
from edge.usecases.ventilation.building import ModbusBuilding
from edge.usecases.ventilation.config import VentilationConfig
from edge.usecases.ventilation.simulator import OCCUPANTS_BASE, SimulatorProcess
from services.central import audit
from services.central.db.session import Database
from services.central.db.tables import AuditEntry, CommandRow, EventRow, ReviewItem
from services.central.review import service as review
from services.central.review.machine import Decision
from services.central.users.service import actor_of, create_user
from services.contract import Event

from .ui_builders import post_form, sign_in

SPEED = 1200.0
STORE = "demo-store"
Auth = Callable[..., dict[str, str]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """Simulator + agent; the agent's events go to central in batches, like the edge publisher."""

    def __init__(self, tmp: Path, client: TestClient, edge_key: dict[str, str], device_key: dict[str, str]) -> None:
        port = _free_port()
        doc = yaml.safe_load((PROJECT_ROOT / "config" / "demo-store-ventilation.yaml").read_text())
        doc["building"]["port"], doc["control"]["clock_scale"] = port, SPEED
        path = tmp / "site.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        self.config = VentilationConfig.model_validate(doc)
        self.sim = SimulatorProcess(path, port, SPEED, log_path=tmp / "simulator.log").start()
        self.client, self.edge_key = client, edge_key
        self.outbox: list[Event] = []
        self.people = {"sales-floor": 30.0, "entrance-plaza": 6.0}
        self.device = ModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
        assert self.device.connect()
        for k, zone in enumerate(self.config.zones):
            self.device.write_register(OCCUPANTS_BASE + k, int(self.people[zone]), device_id=1)
        self.building = ModbusBuilding(self.config)
        self.agent = VentilationAgent(self.config, self.building, self.people.get, self.outbox.append)
        self.receiver = CommandReceiver(STORE, self.config.device_id, self.agent.handle, tmp / "ledger.sqlite")
        self.channel = HttpCommandChannel(self.receiver, api_key=device_key["Authorization"].split()[1], wait_s=0,
                                          client=client)

    def run(self, minutes: int) -> None:
        for _ in range(minutes):
            self.agent.tick()
            time.sleep(60.0 / SPEED)
        self.flush()

    def flush(self) -> None:
        if self.outbox:
            body = [e.model_dump(mode="json") for e in self.outbox]
            r = self.client.post("/api/v1/events", json=body, headers=self.edge_key)
            assert r.status_code == 200, r.text
            self.outbox.clear()

    def setpoints(self, zone: str) -> tuple[float, float]:
        points = self.config.zones[zone].points
        return tuple(points[n].from_raw(self.device.read_holding_registers(points[n].address, count=1, device_id=1)  # type: ignore[union-attr]
                                        .registers[0]) for n in ("damper_setpoint_pct", "fan_setpoint_pct"))  # type: ignore[return-value]

    def close(self) -> None:
        self.device.close()
        self.building.close()
        self.receiver.close()
        self.sim.kill()


@pytest.fixture
def site(tmp_path: Path, client: TestClient, auth: Auth) -> Iterator[Site]:
    s = Site(tmp_path, client, auth("ahu-edge", "events:write", store=STORE), auth("ahu-1", "commands:device", store=STORE))
    yield s
    s.close()


def _person(db: Database, name: str, role: str) -> str:
    with db.unit_of_work() as s:
        return actor_of(create_user(s, name, "correct horse battery", role, actor="test").id)


def _decide(db: Database, actor: str, item: int) -> None:
    with db.unit_of_work() as s:
        found = s.get(ReviewItem, item)
        assert found is not None
        if found.state == "pending":
            review.claim(s, item, actor)
        review.decide(s, item, actor, Decision.CONFIRM)


def _purge_commands(db: Database) -> list[CommandRow]:
    with db.read_session() as s:
        return list(s.scalars(select(CommandRow).where(CommandRow.action == "ventilation.purge")))


def test_confirmed_report_purges_completes_and_is_audited(client: TestClient, db: Database, site: Site) -> None:
    site.run(5)
    csrf = sign_in(client, db, "mika", "manager")
    page = client.get(f"/stores/{STORE}/ventilation")
    assert page.status_code == 200 and 'data-zone="sales-floor"' in page.text and 'data-mode="dcv"' in page.text
    assert "<polyline" in page.text and "Wells–Riley" in page.text and "Report an infected visitor" in page.text

    r = post_form(client, f"/stores/{STORE}/ventilation/report", csrf, zones="sales-floor",
                  visited_from="2026-11-30T10:00", visited_until="2026-11-30T10:40", note="reported by phone")
    assert r.status_code == 303, r.text
    item = int(r.headers["location"].rsplit("arg=", 1)[1])
    with db.read_session() as s:
        found = s.get(ReviewItem, item)
        assert found is not None and (found.event_type, found.required_decisions) == ("ventilation.infection_reported", 2)

    review_page = client.get(f"/reviews/{item}")  # what the two reviewers see
    assert review_page.status_code == 200 and "Infected visitor reported" in review_page.text
    assert "two people must confirm" in review_page.text and "sales-floor" in review_page.text
    first, second = _person(db, "aki", "staff"), _person(db, "ken", "manager")
    _decide(db, first, item)
    site.channel.poll_once()
    site.run(3)
    assert _purge_commands(db) == []  # one person is not enough: nothing issued, nothing delivered
    assert site.agent.zones["sales-floor"].mode == "dcv" and site.setpoints("sales-floor") != (100.0, 100.0)

    _decide(db, second, item)
    (command,) = _purge_commands(db)
    assert command.review_item_id == item and command.arguments["zones"] == ["sales-floor"]
    reports = site.channel.poll_once()
    assert [r.status.value for r in reports] == ["accepted", "succeeded"]
    site.run(2)
    assert site.agent.zones["sales-floor"].mode == "purge" and site.setpoints("sales-floor") == (100.0, 100.0)
    assert site.agent.zones["entrance-plaza"].mode == "dcv"
    page = client.get(f"/stores/{STORE}/ventilation/panel")
    assert 'data-mode="purge"' in page.text and "of 5.0 air changes" in page.text

    for _ in range(20):  # 5 × 1500 m³ at 6000 m³/h is 75 building minutes
        site.run(10)
        if site.agent.zones["sales-floor"].mode == "dcv":
            break
    assert site.agent.zones["sales-floor"].mode == "dcv"
    with db.read_session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        assert audit.verify(s).ok
    actions = [(e.action, e.details) for e in entries]
    assert sum(1 for a, d in actions if a == "review.decision" and d.get("item_id") == item) == 2
    issue = [d for a, d in actions if a == "command.issue" and d.get("action") == "ventilation.purge"]
    assert len(issue) == 1 and issue[0]["review_item_id"] == item
    assert [a for a, d in actions if a == "command.result"]  # the device's accepted / succeeded reports
    with db.read_session() as s:
        rows = list(s.scalars(select(EventRow).where(EventRow.store_id == STORE, EventRow.use_case == "G")))
    done = [r.payload for r in rows if r.type == "ventilation.purge_completed"]
    assert len(done) == 1 and done[0]["air_changes"] >= 5.0 and done[0]["review_item_id"] == item
    purge_writes = [r for r in rows if r.type == "ventilation.setpoints_changed" and r.payload["mode"] == "purge"]
    assert purge_writes and purge_writes[0].payload["by"] == second and str(item) in purge_writes[0].payload["reason"]
    ingested = {i for a, d in actions if a == "events.ingest" for i in d.get("stored", [])}
    assert {str(r.event_id) for r in purge_writes} <= ingested  # every write is in the chain, by id and digest


def test_ventilation_page_in_japanese_and_staff_cannot_purge(client: TestClient, db: Database, site: Site, auth: Auth) -> None:
    site.run(3)
    api = client.get(f"/api/v1/stores/{STORE}/ventilation", headers=auth("router", "events:read")).json()
    assert [z["zone"] for z in api["zones"]] == ["entrance-plaza", "sales-floor"]
    assert all(0 < z["risk_index"] < 0.05 and z["mode"] == "dcv" and z["device_id"] == "ahu-1" for z in api["zones"])
    other = client.get(f"/api/v1/stores/{STORE}/ventilation", headers=auth("osaka", "events:read", store="osaka-03"))
    assert other.status_code == 403
    csrf = sign_in(client, db, "yui", "staff", locale="ja")
    page = client.get(f"/stores/{STORE}/ventilation")
    assert page.status_code == 200 and "需要制御" in page.text and "感染リスク指標" in page.text
    assert "パージとオーバーライドは店長が行います" in page.text and "感染者来店を報告" not in page.text
    assert "800 ppm" in page.text  # the setpoint the agent reports
    r = client.get("/ventilation", follow_redirects=False)  # the nav entry: a store list for unbound accounts
    assert r.status_code == 200 and f'href="/stores/{STORE}/ventilation"' in r.text
    r = post_form(client, f"/stores/{STORE}/ventilation/report", csrf, zones="sales-floor",
                  visited_from="2026-11-30T10:00", visited_until="2026-11-30T10:40")
    assert r.status_code == 403
    r = post_form(client, f"/stores/{STORE}/ventilation/override", csrf, zone="sales-floor", damper_pct="100",
                  fan_pct="100", minutes="30")
    assert r.status_code == 403


def test_manager_override_goes_through_the_command_channel(client: TestClient, db: Database, site: Site) -> None:
    site.run(3)
    csrf = sign_in(client, db, "mika", "manager")
    bad = post_form(client, f"/stores/{STORE}/ventilation/override", csrf, zone="sales-floor", damper_pct="100",
                    fan_pct="5", minutes="30")
    assert bad.status_code == 422 and "fan 10-100" in bad.text
    r = post_form(client, f"/stores/{STORE}/ventilation/override", csrf, zone="entrance-plaza", damper_pct="80",
                  fan_pct="70", minutes="30", reason="deep cleaning")
    assert r.status_code == 303
    assert [x.status.value for x in site.channel.poll_once()] == ["accepted", "succeeded"]
    site.run(2)
    assert site.agent.zones["entrance-plaza"].mode == "override" and site.setpoints("entrance-plaza") == (80.0, 70.0)
    panel = client.get(f"/stores/{STORE}/ventilation/panel").text
    assert 'data-mode="override"' in panel and "deep cleaning" in panel
    r = post_form(client, f"/stores/{STORE}/ventilation/override", csrf, zone="entrance-plaza", damper_pct="0",
                  fan_pct="10", minutes="1", clear="1")
    assert r.status_code == 303
    site.channel.poll_once()
    site.run(2)
    assert site.agent.zones["entrance-plaza"].mode == "dcv"


def test_a_report_for_an_unknown_zone_is_refused_and_stores_nothing(client: TestClient, db: Database, site: Site) -> None:
    site.run(2)
    csrf = sign_in(client, db, "mika", "manager")
    r = post_form(client, f"/stores/{STORE}/ventilation/report", csrf, zones="cellar",
                  visited_from="2026-11-30T10:00", visited_until="2026-11-30T10:40")
    assert r.status_code == 422 and "Choose at least one zone" in r.text
    r = post_form(client, f"/stores/{STORE}/ventilation/report", csrf, zones="sales-floor",
                  visited_from="2026-11-30T11:00", visited_until="2026-11-30T10:40")
    assert r.status_code == 422 and "end after it starts" in r.text
    with db.read_session() as s:
        assert s.scalars(select(ReviewItem)).all() == []


def test_no_purge_command_rests_on_an_unconfirmed_report(client: TestClient, db: Database, auth: Auth) -> None:
    """The command API refuses ventilation.purge without a review item, or with one that only one
    person confirmed; the hook is the only way a purge is issued."""
    from datetime import datetime, timezone

    from services.central.usecases.ventilation import service as ventilation

    state = Event(type="ventilation.zone_state", use_case="G", store_id=STORE, camera_id="ahu-1",
                  occurred_at=datetime.now(timezone.utc),
                  payload={"zone": "sales-floor", "mode": "dcv", "co2_ppm": 700.0, "airflow_m3h": 2000.0, "occupants": 20.0})
    assert client.post("/api/v1/events", json=[state.model_dump(mode="json")],
                       headers=auth("ahu", "events:write", store=STORE)).status_code == 200
    manager = _person(db, "mika", "manager")
    with db.unit_of_work() as s:
        item = ventilation.report_infection(s, client.app.state.settings, store_id=STORE, zones=["sales-floor"],
                                            visited_from=datetime(2026, 11, 30, 10, tzinfo=timezone.utc),
                                            visited_until=datetime(2026, 11, 30, 11, tzinfo=timezone.utc),
                                            note="", actor=manager)
    ops = auth("ops", "commands:write")
    body = {"store_id": STORE, "device_id": "ahu-1", "action": "ventilation.purge", "arguments": {"zones": ["sales-floor"]}}
    assert client.post("/api/v1/commands", json=body, headers=ops).status_code == 422  # no review item at all
    _decide(db, _person(db, "aki", "staff"), item)  # the first of two
    r = client.post("/api/v1/commands", json=body | {"review_item_id": item}, headers=ops)
    assert r.status_code == 409 and "not 'confirmed'" in r.json()["detail"]
    assert _purge_commands(db) == []
