"""A simulated air sensor for the demo and tests: a real Modbus TCP device on 127.0.0.1.

The device (pymodbus server, in a background thread) holds three holding registers, computed
from a small room model at the moment they are read:

* address 0: CO₂ in ppm (uint16);
* address 1: temperature in 0.1 °C (int16);
* address 2: relative humidity in 0.1 % (uint16).

CO₂ follows the well-mixed room balance ``dC/dt = G·N/V − (Q/V)·(C − C_out)``: ``N`` people each
breathing out ``G`` = 0.02 m³/h of CO₂ (light activity) into ``V`` m³ of air, ventilated with
``Q`` m³/h of outdoor air at ``C_out`` = 420 ppm. People and ventilation change in phases
(:class:`Phase`), so CO₂ climbs over 1000 ppm while the ventilation is low and comes back
when it is restored. Temperature and humidity drift slowly (a daily swing and dry spells).
``speed`` simulated seconds pass per real second, so a demo shows minutes of the store in seconds.

>>> model = RoomModel(phases=(Phase(600, people=80, ventilation_m3h=3000), Phase(600, people=80, ventilation_m3h=1000)))
>>> [round(model.advance(300)[0]) for _ in range(4)]   # 5-minute steps: good, then poor ventilation
[720, 800, 958, 1096]
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

OUTDOOR_PPM = 420.0
CO2_PER_PERSON_M3H = 0.02  # light activity (shopping)

#: The register map a store config reads (see ``config/demo-store.yaml``).
REGISTERS = (
    {"address": 0, "data_type": "uint16", "quantity": "co2_ppm", "unit": "ppm"},
    {"address": 1, "data_type": "int16", "scale": 0.1, "quantity": "temperature_c", "unit": "°C"},
    {"address": 2, "data_type": "uint16", "scale": 0.1, "quantity": "humidity_pct", "unit": "%"},
)


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of simulated time: how long (s), how many people, how much outdoor air (m³/h)."""

    duration_s: float
    people: int
    ventilation_m3h: float


#: The demo's day: a quiet start, a crowd with the ventilation turned down, then it is turned up.
DEMO_PHASES = (
    Phase(900, people=30, ventilation_m3h=2500),
    Phase(2700, people=90, ventilation_m3h=1100),
    Phase(1800, people=90, ventilation_m3h=4000),
    Phase(1800, people=40, ventilation_m3h=2500),
)


class RoomModel:
    """CO₂, temperature and humidity of one well-mixed room over simulated time (repeats its phases)."""

    def __init__(self, phases: tuple[Phase, ...] = DEMO_PHASES, volume_m3: float = 600.0, co2_ppm: float = 600.0) -> None:
        self.phases, self.volume_m3, self.co2_ppm = phases, volume_m3, co2_ppm
        self.t = 0.0
        self._cycle = sum(p.duration_s for p in phases)

    def phase(self) -> Phase:
        left = self.t % self._cycle
        for p in self.phases:
            if left < p.duration_s:
                return p
            left -= p.duration_s
        return self.phases[-1]

    def advance(self, dt_s: float) -> tuple[float, float, float]:
        """Move ``dt_s`` simulated seconds on; (CO₂ ppm, °C, % RH) then."""
        step = 10.0
        while dt_s > 0:
            h = min(step, dt_s)
            p = self.phase()
            source = p.people * CO2_PER_PERSON_M3H / self.volume_m3 * 1e6  # ppm per hour
            decay = p.ventilation_m3h / self.volume_m3  # 1/h
            # exact for a constant phase over h: C → C_ss + (C − C_ss)·e^(−decay·h)
            steady = OUTDOOR_PPM + source / decay
            self.co2_ppm = steady + (self.co2_ppm - steady) * math.exp(-decay * h / 3600)
            self.t += h
            dt_s -= h
        hours = self.t / 3600
        temperature = 24.0 + 2.5 * math.sin(2 * math.pi * hours / 6) + 0.01 * self.phase().people
        humidity = 47.0 + 10.0 * math.sin(2 * math.pi * hours / 3 + 1.0)
        return self.co2_ppm, temperature, humidity

    def registers(self) -> list[int]:
        """The current values as the device's three registers."""
        co2, temperature, humidity = self.co2_ppm, *self.advance(0)[1:]
        return [int(round(co2)), int(round(temperature * 10)) & 0xFFFF, int(round(humidity * 10))]


class SimulatedAirSensor:
    """The room model served as a Modbus TCP device on ``host:port`` (unit id 1) until :meth:`stop`.

    Args:
        port: TCP port (0: a free one, see :attr:`port` after :meth:`start`).
        speed: simulated seconds per real second.
        model: the room (default: the demo's day).
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", speed: float = 60.0, model: RoomModel | None = None) -> None:
        self.host, self.port, self.speed = host, port, speed
        self.model = model or RoomModel()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def read(self) -> list[int]:
        """Advance the model to now and give the registers (what a Modbus read returns)."""
        with self._lock:
            now = time.monotonic()
            self.model.advance((now - self._last) * self.speed)
            self._last = now
            return self.model.registers()

    async def _serve(self) -> None:
        from pymodbus.server import ModbusTcpServer
        from pymodbus.simulator import DataType, SimData, SimDevice

        async def on_access(function_code: int, start: int, address: int, count: int,
                            registers: list[int], set_values: object) -> None:
            registers[: len(REGISTERS)] = self.read()  # every read sees the room as it is now

        device = SimDevice(1, simdata=[SimData(0, count=len(REGISTERS), values=0, datatype=DataType.REGISTERS)], action=on_access)
        server = ModbusTcpServer(device, address=(self.host, self.port))
        self._stop = asyncio.Event()
        serving = asyncio.create_task(server.serve_forever())
        try:
            await self._stop.wait()
        finally:
            await server.shutdown()
            serving.cancel()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def start(self, timeout_s: float = 10.0) -> SimulatedAirSensor:
        if self.port == 0:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = int(s.getsockname()[1])
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"air-sensor-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._error is not None:
                raise RuntimeError(f"simulated air sensor could not serve {self.host}:{self.port}: {self._error}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    log.info("simulated air sensor on modbus://%s:%d (x%g time)", self.host, self.port, self.speed)
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"simulated air sensor did not listen on {self.host}:{self.port} within {timeout_s} s")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)

    def __enter__(self) -> SimulatedAirSensor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
