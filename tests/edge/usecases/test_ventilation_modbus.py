"""Use case G against the simulated air handler over real Modbus TCP on 127.0.0.1: DCV follows
occupancy, an override expires and reverts, a purge command runs to its air changes, a lost device
means failsafe plus one alert (and restored when it is back), a lost CO₂ reading fails safe, and the
device's own watchdog takes over when the agent goes quiet.

The simulator runs as a separate process at 1200× (a control minute every 50 ms); the agent's
clock is real time, scaled the same, so both agree on building time.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from pymodbus.client import ModbusTcpClient

from edge.commands.receiver import CommandReceiver
from edge.paths import PROJECT_ROOT
from edge.usecases.ventilation.agent import VentilationAgent
from edge.usecases.ventilation.building import ModbusBuilding
from edge.usecases.ventilation.config import VentilationConfig
from edge.usecases.ventilation.simulator import OCCUPANTS_BASE, SimulatorProcess
from services.contract import Event
from services.contract.commands import Command
from services.contract.registry import validate_event_payload

SPEED = 1200.0
TICK_S = 60.0 / SPEED  # one control minute of building time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site(port: int) -> dict[str, Any]:
    """The demo site's config, on this test's port and clock scale."""
    doc = yaml.safe_load((PROJECT_ROOT / "config" / "demo-store-ventilation.yaml").read_text())
    doc["building"]["port"] = port
    doc["control"]["clock_scale"] = SPEED
    return doc


class Rig:
    """Simulator process + agent + a separate Modbus client that plays the people and checks registers."""

    def __init__(self, tmp: Path, agent_patch: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.port = free_port()
        self.doc = site(self.port)
        self.path = tmp / "site.yaml"
        self.path.write_text(yaml.safe_dump(self.doc, allow_unicode=True, sort_keys=False))
        if agent_patch is not None:  # the agent's point map differs from what the device serves
            agent_patch(self.doc)
        self.config = VentilationConfig.model_validate(self.doc)
        self.sim = SimulatorProcess(self.path, self.port, SPEED, log_path=tmp / "simulator.log").start()
        self.events: list[Event] = []
        self.occupants: dict[str, float] = {}
        self.building = ModbusBuilding(self.config)
        self.agent = VentilationAgent(self.config, self.building, self.occupants.get, self.events.append,
                                      clock=lambda: datetime.now(timezone.utc))
        self.people = ModbusTcpClient("127.0.0.1", port=self.port, timeout=1, retries=0)

    def set_people(self, zone: str, n: int) -> None:
        """People in the zone (the simulator breathes them) and what F counts (the agent sees them)."""
        k = list(self.config.zones).index(zone)
        assert self.people.connect()
        assert not self.people.write_register(OCCUPANTS_BASE + k, n, device_id=1).isError()
        self.occupants[zone] = float(n)

    def holding(self, zone: str) -> tuple[float, float]:
        """The damper and fan setpoints as the device holds them, read independently of the agent."""
        points = self.config.zones[zone].points
        assert self.people.connect()
        out = []
        for name in ("damper_setpoint_pct", "fan_setpoint_pct"):
            p = points[name]
            out.append(p.from_raw(self.people.read_holding_registers(p.address, count=1, device_id=1).registers[0]))  # type: ignore[union-attr]
        return out[0], out[1]

    def run(self, minutes: int) -> None:
        for _ in range(minutes):
            self.agent.tick()
            time.sleep(TICK_S)

    def of_type(self, type_: str) -> list[Event]:
        return [e for e in self.events if e.type == type_]

    def close(self) -> None:
        self.people.close()
        self.building.close()
        self.sim.kill()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def _command(rig: Rig, action: str, **arguments: Any) -> Command:
    now = datetime.now(timezone.utc)
    return Command(store_id=rig.config.store_id, device_id=rig.config.device_id, action=action, arguments=arguments,
                   issued_by="user:7", issued_at=now, expires_at=now + timedelta(minutes=5))


def test_dcv_follows_occupancy_over_modbus(rig: Rig) -> None:
    rig.set_people("sales-floor", 45)
    rig.run(40)
    state = [e.payload for e in rig.of_type("ventilation.zone_state") if e.payload["zone"] == "sales-floor"]
    busy_co2 = state[-1]["co2_ppm"]
    busy_setpoints = rig.holding("sales-floor")
    assert busy_setpoints == (rig.agent.zones["sales-floor"].written.damper_pct, rig.agent.zones["sales-floor"].written.fan_pct)
    assert 700 < busy_co2 < 1000, state[-5:]  # the loop holds the 800 ppm setpoint, never near 1000
    busy_flow = state[-1]["airflow_m3h"]
    assert busy_flow >= 45 * 30  # at least Japan's 30 m³/h per person
    rig.set_people("sales-floor", 0)
    rig.run(40)
    quiet = [e.payload for e in rig.of_type("ventilation.zone_state") if e.payload["zone"] == "sales-floor"][-1]
    # less air for nobody; CO₂ decays slowly at that airflow (time constant V/Q ≈ 3 h)
    assert quiet["airflow_m3h"] < busy_flow / 2 and quiet["co2_ppm"] < busy_co2 - 50
    assert rig.holding("sales-floor")[1] < busy_setpoints[1]  # the fan slowed down on the device
    changes = rig.of_type("ventilation.setpoints_changed")
    assert changes and {e.payload["by"] for e in changes} == {"dcv"} and all(e.payload["reason"] for e in changes)
    for event in rig.events:  # everything the agent sends fits the contract
        validate_event_payload(event)


def test_expired_override_reverts_to_dcv(rig: Rig, tmp_path: Path) -> None:
    receiver = CommandReceiver(rig.config.store_id, rig.config.device_id, rig.agent.handle, tmp_path / "ledger.sqlite")
    rig.set_people("entrance-plaza", 4)
    rig.run(5)
    # overrides last wall-clock minutes (a person's time), not building time: 0.02 min is 1.2 s here
    reports = receiver.receive(_command(rig, "ventilation.override", zone="entrance-plaza", damper_pct=100.0,
                                        fan_pct=90.0, minutes=0.02, reason="cleaning with solvent"))
    assert [r.status.value for r in reports] == ["accepted", "succeeded"]
    rig.run(2)
    assert rig.agent.zones["entrance-plaza"].mode == "override"
    assert rig.holding("entrance-plaza") == (100.0, 90.0)
    time.sleep(1.3)  # the override expires
    rig.run(2)
    assert rig.agent.zones["entrance-plaza"].mode == "dcv"
    assert rig.holding("entrance-plaza") != (100.0, 90.0)
    by = [(e.payload["mode"], e.payload["by"]) for e in rig.of_type("ventilation.setpoints_changed")
          if e.payload["zone"] == "entrance-plaza"]
    assert ("override", "user:7") in by and by[-1] == ("dcv", "dcv")
    bad = receiver.receive(_command(rig, "ventilation.override", zone="entrance-plaza", damper_pct=50.0, fan_pct=5.0,
                                    minutes=10))
    assert bad[-1].status.value == "refused" and "limits" in (bad[-1].detail or "")
    receiver.close()


def test_purge_command_runs_to_its_air_changes_then_dcv(rig: Rig) -> None:
    rig.set_people("sales-floor", 20)
    rig.run(3)
    outcome = rig.agent.handle(_command(rig, "ventilation.purge", zones=["sales-floor"], air_changes=5.0, review_item_id=3))
    assert outcome.status == "succeeded"
    rig.run(2)
    assert rig.agent.zones["sales-floor"].mode == "purge" and rig.holding("sales-floor") == (100.0, 100.0)
    assert rig.agent.zones["entrance-plaza"].mode == "dcv"  # only the reported zone
    for _ in range(200):
        rig.run(1)
        if rig.of_type("ventilation.purge_completed"):
            break
    (done,) = rig.of_type("ventilation.purge_completed")
    volume = rig.config.zones["sales-floor"].volume_m3
    bound = 5 * volume / rig.config.zones["sales-floor"].max_airflow_m3h * 60
    assert done.payload["air_changes"] >= 5.0 and done.payload["review_item_id"] == 3
    assert bound <= done.payload["minutes"] <= bound + 10  # as fast as the fan allows, plus the actuators' travel
    rig.run(2)
    assert rig.agent.zones["sales-floor"].mode == "dcv" and rig.holding("sales-floor") != (100.0, 100.0)


def test_lost_simulator_means_failsafe_and_one_alert_then_restored(rig: Rig) -> None:
    rig.set_people("sales-floor", 10)
    rig.run(3)
    rig.sim.kill()  # the air handler loses power / the network drops
    rig.run(4)
    alerts = rig.of_type("ventilation.failsafe")
    assert len(alerts) == 1, alerts
    alert = alerts[0]
    assert alert.severity == "critical" and alert.review_required and alert.explanation is not None
    assert alert.payload["cause"] == "building_unreachable" and alert.payload["action"] == "max_outdoor_air"
    assert {z.mode for z in rig.agent.zones.values()} == {"failsafe"}
    validate_event_payload(alert)
    rig.sim.start()
    rig.run(3)
    (restored,) = rig.of_type("ventilation.restored")
    assert restored.payload["down_for_s"] > 0
    assert {z.mode for z in rig.agent.zones.values()} == {"dcv"}
    assert rig.agent.zones["sales-floor"].written is not None


def test_device_watchdog_applies_the_failsafe_when_the_agent_goes_quiet(rig: Rig) -> None:
    rig.set_people("sales-floor", 5)
    rig.run(3)
    assert rig.holding("sales-floor") != (100.0, 100.0)
    time.sleep((rig.config.failsafe.device_watchdog_s + 120) / SPEED)  # the agent stops writing
    assert rig.holding("sales-floor") == (100.0, 100.0)


def test_lost_co2_reading_fails_safe_in_that_zone_only(tmp_path: Path) -> None:
    def no_co2_register(doc: dict[str, Any]) -> None:
        doc["zones"]["entrance-plaza"]["points"]["co2_ppm"] = {"address": 900, "unit": "ppm"}  # the device has none

    rig = Rig(tmp_path, no_co2_register)
    try:
        rig.set_people("sales-floor", 5)
        rig.run(3)
        (alert,) = rig.of_type("ventilation.failsafe")
        assert alert.payload["cause"] == "co2_sensor_lost" and alert.payload["zones"] == ["entrance-plaza"]
        assert rig.agent.zones["entrance-plaza"].mode == "failsafe" and rig.holding("entrance-plaza") == (100.0, 100.0)
        assert rig.agent.zones["sales-floor"].mode == "dcv"
    finally:
        rig.close()
