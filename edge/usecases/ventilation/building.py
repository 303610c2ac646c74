"""Talk to the air handler: read each zone's points, write its damper and fan setpoints.

:class:`Building` is what the agent needs; :class:`ModbusBuilding` speaks Modbus TCP (pymodbus)
and :class:`~edge.usecases.ventilation.bacnet.BacnetBuilding` BACnet/IP (BAC0). Both take the
point map from the site config (addresses or object ids, scaling, units, write limits).

Failures are split the way the agent reacts to them: :class:`BuildingUnreachable` (no connection,
timeout: the failsafe) and :class:`PointRefused` (the device answered with an error, or a write is
outside the point's limits: that one point is lost, logged, nothing else).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol

from edge.usecases.ventilation.config import READ_POINTS, ModbusPoint, VentilationConfig, ZoneConfig

log = logging.getLogger(__name__)


class BuildingUnreachable(ConnectionError):
    """The device did not answer (connection refused, reset or timed out)."""


class PointRefused(ValueError):
    """The device answered a read or write with an error, or a value is outside the point's limits."""


@dataclass(frozen=True, slots=True)
class ZoneReading:
    """One zone's measured points (``None``: the map has no such point or the device refused it)."""

    co2_ppm: float | None
    airflow_m3h: float | None
    temperature_c: float | None = None
    humidity_pct: float | None = None
    damper_pct: float | None = None
    fan_pct: float | None = None


class Building(Protocol):
    def read_zone(self, zone: str) -> ZoneReading: ...

    def write_setpoints(self, zone: str, damper_pct: float, fan_pct: float) -> None: ...

    def close(self) -> None: ...


def check_limits(name: str, value: float, limits: tuple[float, float] | None) -> float:
    """``value`` if it is finite and within ``limits``, else :class:`PointRefused`.

    >>> check_limits("fan_setpoint_pct", 55.0, (20, 100))
    55.0
    >>> try:
    ...     check_limits("fan_setpoint_pct", 5.0, (20, 100))
    ... except PointRefused as refused:
    ...     print(refused)
    fan_setpoint_pct: 5.0 is outside its limits [20, 100]
    """
    if not math.isfinite(value):
        raise PointRefused(f"{name}: {value} is not a number")
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise PointRefused(f"{name}: {value} is outside its limits [{limits[0]:g}, {limits[1]:g}]")
    return value


class ModbusBuilding:
    """An air handler over Modbus TCP; one connection, reopened on the next call after a failure."""

    def __init__(self, config: VentilationConfig, client_factory: Any = None) -> None:
        if config.building.protocol != "modbus":
            raise ValueError("ModbusBuilding needs a modbus building")
        self.config = config
        self.building = config.building
        self._factory = client_factory or _tcp_client
        self._client: Any = None

    def _connected(self) -> Any:
        if self._client is None:
            client = self._factory(self.building.host, self.building.port, self.building.timeout_s)
            try:
                ok = client.connect()
            except OSError as exc:
                ok, why = False, str(exc)
            else:
                why = "connection refused or timed out"
            if not ok:
                client.close()
                raise BuildingUnreachable(f"Modbus device {self.building.host}:{self.building.port}: {why}")
            self._client = client
        return self._client

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        from pymodbus.exceptions import ModbusException

        client = self._connected()
        try:
            response = getattr(client, method)(*args, device_id=self.building.unit_id, **kwargs)
        except (ModbusException, OSError) as exc:
            self.close()
            raise BuildingUnreachable(f"Modbus device {self.building.host}:{self.building.port}: "
                                      f"{type(exc).__name__}: {exc}") from None
        if response.isError():
            raise PointRefused(f"{method}{args}: the device answered {response}")
        return response

    def _read(self, point: ModbusPoint) -> float:
        method = "read_input_registers" if point.table == "input" else "read_holding_registers"
        return point.from_raw(self._call(method, point.address, count=1).registers[0])

    def read_zone(self, zone: str) -> ZoneReading:
        """Every mapped read point of ``zone``; a refused point is ``None`` (logged)."""
        values: dict[str, float | None] = {}
        for name in READ_POINTS:
            point = self._zone(zone).points.get(name)
            if point is None:
                values[name] = None
                continue
            try:
                values[name] = self._read(point)  # type: ignore[arg-type]
            except PointRefused as exc:
                log.warning("zone %s: %s not read: %s", zone, name, exc)
                values[name] = None
        return ZoneReading(**values)

    def write_setpoints(self, zone: str, damper_pct: float, fan_pct: float) -> None:
        """Write both setpoints (each checked against its point's limits first: nothing is
        written if either is out of range)."""
        points = self._zone(zone).points
        writes = []
        for name, value in (("damper_setpoint_pct", damper_pct), ("fan_setpoint_pct", fan_pct)):
            point = points[name]
            assert isinstance(point, ModbusPoint)
            writes.append((point, point.to_raw(check_limits(name, value, point.limits))))
        for point, raw in writes:
            self._call("write_register", point.address, raw)

    def _zone(self, zone: str) -> ZoneConfig:
        try:
            return self.config.zones[zone]
        except KeyError:
            raise PointRefused(f"no zone {zone!r}; the site has {', '.join(self.config.zones)}") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _tcp_client(host: str, port: int, timeout_s: float) -> Any:
    from pymodbus.client import ModbusTcpClient

    # retries=0: one attempt per call; the agent's next period is the retry
    return ModbusTcpClient(host, port=port, timeout=timeout_s, retries=0)
