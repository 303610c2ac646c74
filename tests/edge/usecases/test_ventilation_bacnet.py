"""Use case G over BACnet/IP: the agent reads and writes a BAC0 simulated air handler on 127.0.0.1
(two BACnet/IP stacks on their own UDP ports; no network beyond the loopback)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.usecases.ventilation.agent import VentilationAgent
from edge.usecases.ventilation.building import BuildingUnreachable
from edge.usecases.ventilation.config import VentilationConfig
from services.contract import Event

BAC0 = pytest.importorskip("BAC0")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


POINTS = {
    "co2_ppm": ("analogInput", 1, 1150.0), "temperature_c": ("analogInput", 2, 24.5),
    "humidity_pct": ("analogInput", 3, 48.0), "airflow_m3h": ("analogInput", 6, 900.0),
    "damper_setpoint_pct": ("analogValue", 10, 20.0), "fan_setpoint_pct": ("analogValue", 11, 30.0),
}


DEVICE = """
import asyncio, sys, BAC0
from BAC0.core.devices.local.factory import ObjectFactory, analog_input, analog_value
POINTS = %r

async def main(port):
    BAC0.log_level("error")
    async with BAC0.start(ip=f"127.0.0.1/24:{port}", deviceId=1001, localObjName="sim-ahu") as device:
        ObjectFactory.clear_objects()
        for name, (kind, number, value) in POINTS.items():
            make = analog_input if kind == "analogInput" else analog_value
            factory = make(instance=number, name=name, presentValue=value, is_commandable=kind == "analogValue")
        factory.add_objects_to_application(device)
        print("ready", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(int(sys.argv[1])))
"""


class SimulatedDevice:
    """A BAC0 device with one zone's objects, in a process of its own (as a real controller is)."""

    def __init__(self, tmp: Path, port: int) -> None:
        script = tmp / "bacnet_device.py"
        script.write_text(DEVICE % (POINTS,))
        self.proc = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        seen = []
        for line in self.proc.stdout:  # BAC0 logs its start to stdout, then the script says ready
            seen.append(line)
            if line.startswith("ready"):
                return
        self.close()
        raise RuntimeError(f"the BAC0 device did not start: {''.join(seen)[-2000:]}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _config(device_port: int, local_port: int) -> VentilationConfig:
    points = {name: {"object_type": kind, "instance": number} for name, (kind, number, _) in POINTS.items()}
    points["damper_setpoint_pct"]["limits"] = [0, 100]
    points["fan_setpoint_pct"]["limits"] = [10, 100]
    return VentilationConfig.model_validate({
        "store_id": "demo-store", "device_id": "ahu-bacnet",
        "building": {"protocol": "bacnet", "address": f"127.0.0.1:{device_port}", "device_instance": 1001,
                     "local_ip": f"127.0.0.1/24:{local_port}", "timeout_s": 3.0},
        "zones": {"sales-floor": {"area_m2": 500, "height_m": 3, "max_airflow_m3h": 6000, "fan_design_kw": 3.0,
                                  "points": points}},
    })


@pytest.fixture
def device(tmp_path: Path) -> Iterator[tuple[SimulatedDevice, int]]:
    port = _free_udp_port()
    dev = SimulatedDevice(tmp_path, port)
    yield dev, port
    dev.close()


def _setpoints(building: Any, config: VentilationConfig) -> tuple[float, float]:
    """The setpoint objects' present values, read back from the device over BACnet."""
    points = config.zones["sales-floor"].points
    return building._read(points["damper_setpoint_pct"]), building._read(points["fan_setpoint_pct"])


def test_agent_reads_and_writes_a_bac0_device(device: tuple[SimulatedDevice, int]) -> None:
    from edge.usecases.ventilation.bacnet import BacnetBuilding

    _, port = device
    config = _config(port, _free_udp_port())
    building = BacnetBuilding(config)
    events: list[Event] = []
    try:
        reading = building.read_zone("sales-floor")
        assert (reading.co2_ppm, reading.airflow_m3h, reading.temperature_c) == (1150.0, 900.0, 24.5)
        agent = VentilationAgent(config, building, {"sales-floor": 40.0}.get, events.append)
        agent.tick()  # 40 people and 1150 ppm: far more air than the device gives now
        written = agent.zones["sales-floor"].written
        assert written is not None and agent.zones["sales-floor"].mode == "dcv"
        assert _setpoints(building, config) == (written.damper_pct, written.fan_pct)
        assert written.fan_pct > 30.0
        building.write_setpoints("sales-floor", 55.0, 65.0)
        assert _setpoints(building, config) == (55.0, 65.0)
        with pytest.raises(ValueError, match="outside its limits"):
            building.write_setpoints("sales-floor", 55.0, 5.0)
    finally:
        building.close()


def test_a_silent_bacnet_device_is_unreachable_within_the_timeout() -> None:
    from edge.usecases.ventilation.bacnet import BacnetBuilding

    config = _config(_free_udp_port(), _free_udp_port())  # nobody listens on the device's port
    building = BacnetBuilding(config)
    try:
        with pytest.raises(BuildingUnreachable):
            building.read_zone("sales-floor")
    finally:
        building.close()
