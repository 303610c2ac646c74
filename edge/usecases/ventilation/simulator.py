"""A simulated air handler serving a site's point map over Modbus TCP (pymodbus), for tests and
the demo: ``python -m edge.usecases.ventilation.simulator --config FILE --port N [--speed S]``.

Each zone is the well-mixed model of :mod:`.physics`. The model advances to the present on every
request (time × ``speed``: the demo runs a minute of building time per real second), so reads see
CO₂, temperature, humidity, damper and fan positions and the measured outdoor airflow of now.
Writes to the setpoint registers move the actuators (first-order lag, 20 s). People are the
simulator's input: holding register ``occupants_base + k`` holds zone k's occupants (zones in
config order), written by whoever plays the store (the demo from F's live counts, a test).

The device's own watchdog: ``failsafe.device_watchdog_s`` of building time without a setpoint
write and it applies ``failsafe.action`` itself (maximum outdoor air, or holds), as real air
handlers do when their supervisor goes quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edge.usecases.ventilation.config import ModbusPoint, VentilationConfig, load
from edge.usecases.ventilation.physics import ZoneSpec, ZoneState, step

log = logging.getLogger(__name__)

ACTUATOR_TAU_S = 20.0
MAX_STEP_S = 10.0
OCCUPANTS_BASE = 100


@dataclass
class SimZone:
    spec: ZoneSpec
    max_airflow_m3h: float
    state: ZoneState = field(default_factory=ZoneState)
    damper_sp: float = 20.0
    fan_sp: float = 50.0
    damper: float = 20.0
    fan: float = 50.0
    occupants: float = 0.0
    last_write_s: float = 0.0

    @property
    def airflow_m3h(self) -> float:
        return self.max_airflow_m3h * self.damper / 100 * self.fan / 100


class BuildingModel:
    """Every zone of a site, advanced lazily in building time (``clock`` × ``speed``)."""

    def __init__(self, config: VentilationConfig, speed: float = 1.0, occupants_base: int = OCCUPANTS_BASE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.speed = speed
        self.clock = clock
        self.zones = {name: SimZone(ZoneSpec(z.area_m2, z.height_m, z.activity), z.max_airflow_m3h)
                      for name, z in config.zones.items()}
        self._started = clock()
        self.building_s = 0.0
        self.watchdog_trips = 0
        # register maps: (table, address) -> (zone, point name, point)
        self.inputs: dict[tuple[str, int], tuple[str, str, ModbusPoint]] = {}
        for name, z in config.zones.items():
            for pname, p in z.points.items():
                if isinstance(p, ModbusPoint):
                    self.inputs[(p.table, p.address)] = (name, pname, p)
        self.occupant_registers = {occupants_base + k: name for k, name in enumerate(config.zones)}

    def advance(self) -> None:
        target = (self.clock() - self._started) * self.speed
        watchdog, action = self.config.failsafe.device_watchdog_s, self.config.failsafe.action
        while self.building_s < target:
            dt = min(MAX_STEP_S, target - self.building_s)
            self.building_s += dt
            for z in self.zones.values():
                if action == "max_outdoor_air" and self.building_s - z.last_write_s > watchdog and (z.damper_sp, z.fan_sp) != (100.0, 100.0):
                    z.damper_sp, z.fan_sp = 100.0, 100.0
                    self.watchdog_trips += 1
                    log.warning("watchdog: no setpoint write for %.0f s; maximum outdoor air", watchdog)
                keep = math.exp(-dt / ACTUATOR_TAU_S)
                z.damper = z.damper_sp + (z.damper - z.damper_sp) * keep
                z.fan = z.fan_sp + (z.fan - z.fan_sp) * keep
                z.state = step(z.state, z.spec, z.occupants, z.airflow_m3h, dt)

    def value(self, zone: str, point: str) -> float:
        z = self.zones[zone]
        return {
            "co2_ppm": z.state.co2_ppm, "temperature_c": z.state.temperature_c, "humidity_pct": z.state.humidity_pct,
            "damper_pct": z.damper, "fan_pct": z.fan, "airflow_m3h": z.airflow_m3h,
            "damper_setpoint_pct": z.damper_sp, "fan_setpoint_pct": z.fan_sp,
        }[point]

    def read(self, table: str, address: int) -> int:
        """The register word now (0 for an address nothing is mapped to)."""
        if table == "holding" and address in self.occupant_registers:
            return round(self.zones[self.occupant_registers[address]].occupants)
        mapped = self.inputs.get((table, address))
        if mapped is None:
            return 0
        zone, pname, point = mapped
        low, high = (-32768, 32767) if point.data_type == "int16" else (0, 65535)
        raw = round((self.value(zone, pname) - point.offset) / point.scale)
        return max(low, min(high, raw)) & 0xFFFF

    def write(self, address: int, word: int) -> None:
        if address in self.occupant_registers:
            self.zones[self.occupant_registers[address]].occupants = float(word)
            return
        mapped = self.inputs.get(("holding", address))
        if mapped is None:
            return
        zone, pname, point = mapped
        z = self.zones[zone]
        value = max(0.0, min(100.0, point.from_raw(word)))
        if pname == "damper_setpoint_pct":
            z.damper_sp = value
        elif pname == "fan_setpoint_pct":
            z.fan_sp = value
        z.last_write_s = self.building_s

    async def action(self, function_code: int, start_address: int, address: int, count: int,
                     registers: list[int], values: list[int] | list[bool] | None) -> None:
        """pymodbus' hook on every request: advance, then serve reads from the model and apply writes."""
        self.advance()
        table = "input" if function_code == 4 else "holding"
        if values is not None:
            for i, word in enumerate(values):
                self.write(address + i, int(word))
            return
        for i in range(count):
            registers[address - start_address + i] = self.read(table, address + i)


def device(model: BuildingModel, unit_id: int):  # noqa: ANN201 - pymodbus SimDevice
    from pymodbus.simulator import DataType, SimData, SimDevice

    size = 1 + max([a for (_, a) in model.inputs] + list(model.occupant_registers))
    bits = [SimData(0, values=False, datatype=DataType.BITS)]
    registers = [SimData(0, count=size, values=0, datatype=DataType.REGISTERS)]
    return SimDevice(unit_id, simdata=(bits, bits, registers, list(registers)), action=model.action)


async def serve(config: VentilationConfig, host: str, port: int, speed: float, occupants_base: int) -> None:
    from pymodbus.server import ModbusTcpServer

    if config.building.protocol != "modbus":
        raise SystemExit("the simulator serves Modbus point maps only")
    model = BuildingModel(config, speed, occupants_base)
    server = ModbusTcpServer(device(model, config.building.unit_id), address=(host, port))
    log.info("simulated air handler for %s on %s:%d (speed %.0fx)", config.store_id, host, port, speed)
    await server.serve_forever()


class SimulatorProcess:
    """The simulator as a child process (tests and the demo): ``start()`` returns once it listens;
    ``kill()`` is a power cut (SIGKILL), ``stop()`` a shutdown."""

    def __init__(self, config_path: str | Path, port: int, speed: float = 1.0, host: str = "127.0.0.1",
                 log_path: str | Path | None = None) -> None:
        self.config_path, self.port, self.speed, self.host = Path(config_path), port, speed, host
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> SimulatorProcess:
        out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge.usecases.ventilation.simulator", "--config", str(self.config_path),
             "--host", self.host, "--port", str(self.port), "--speed", str(self.speed)],
            stdout=out, stderr=out, cwd=Path(__file__).resolve().parents[3])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the ventilation simulator exited with {self.proc.returncode}"
                                   + (f"; see {self.log_path}" if self.log_path else ""))
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the ventilation simulator did not listen on {self.host}:{self.port} within {timeout_s} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the site's ventilation YAML (its Modbus point map)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--speed", type=float, default=1.0, help="building seconds per real second")
    parser.add_argument("--occupants-base", type=int, default=OCCUPANTS_BASE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s simulator: %(message)s")
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    asyncio.run(serve(load(args.config), args.host, args.port, args.speed, args.occupants_base))


if __name__ == "__main__":
    main()
