"""An air handler over BACnet/IP (BAC0 on BACpypes3): read each zone's points' present values,
write the damper and fan setpoints at priority 10 (a supervisory application's; life safety 1-2,
critical equipment 5 and a manual operator at the device, 8, all outrank it).

BAC0 is asyncio; the agent is a thread. :class:`BacnetBuilding` runs BAC0 on an event loop of its
own (a daemon thread) and waits for each answer with the building's timeout, so a device that does
not answer is :class:`~.building.BuildingUnreachable` within ``timeout_s``, as over Modbus.

BAC0's public ``write()`` only schedules the request and never says whether it worked; this
module awaits BAC0's ``_write`` coroutine, which returns the device's answer (or raises).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any

from edge.usecases.ventilation.building import BuildingUnreachable, PointRefused, ZoneReading, check_limits
from edge.usecases.ventilation.config import READ_POINTS, BacnetPoint, VentilationConfig

log = logging.getLogger(__name__)

#: BACnet write priority of our commands (see the module docstring).
WRITE_PRIORITY = 10


class BacnetBuilding:
    """The site's air handler as a BACnet/IP device (``building.protocol: bacnet``).

    Args:
        config: the site; its ``building`` names the device address and our local interface.
        device_id: our own BACnet device instance (any unused one on the network).
    """

    def __init__(self, config: VentilationConfig, device_id: int = 4_194_000) -> None:
        import BAC0

        if config.building.protocol != "bacnet":
            raise ValueError("BacnetBuilding needs a bacnet building")
        self.config = config
        self.building = config.building
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bacnet", daemon=True)
        self._thread.start()
        BAC0.log_level("error")  # BAC0 logs every request at info; our own log says what matters
        ip = self.building.local_ip or None
        self._lite: Any = self._run(self._start(BAC0, ip, device_id), timeout=30)

    @staticmethod
    async def _start(bac0: Any, ip: str | None, device_id: int) -> Any:
        lite = bac0.start(ip=ip, deviceId=device_id) if ip else bac0.start(deviceId=device_id)
        return await lite.__aenter__()

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=timeout or self.building.timeout_s)
        except (concurrent.futures.TimeoutError, TimeoutError):
            future.cancel()
            raise BuildingUnreachable(f"BACnet device {self.building.address} did not answer within "
                                      f"{timeout or self.building.timeout_s:g} s") from None

    def _address(self, point: BacnetPoint) -> str:
        return f"{self.building.address} {point.object_type} {point.instance} presentValue"

    def _read(self, point: BacnetPoint) -> float:
        from BAC0.core.io.IOExceptions import NoResponseFromController, UnknownObjectError, UnknownPropertyError

        try:
            value = self._run(self._lite.read(self._address(point)))
        except NoResponseFromController as exc:
            raise BuildingUnreachable(f"BACnet device {self.building.address}: {exc}") from None
        except (UnknownObjectError, UnknownPropertyError) as exc:
            raise PointRefused(f"{point.object_type} {point.instance}: {exc}") from None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise PointRefused(f"{point.object_type} {point.instance}: not a number: {value!r}") from None

    def read_zone(self, zone: str) -> ZoneReading:
        points = self.config.zones[zone].points
        values: dict[str, float | None] = {}
        for name in READ_POINTS:
            point = points.get(name)
            if point is None:
                values[name] = None
                continue
            assert isinstance(point, BacnetPoint)
            try:
                values[name] = self._read(point)
            except PointRefused as exc:
                log.warning("zone %s: %s not read: %s", zone, name, exc)
                values[name] = None
        return ZoneReading(**values)

    def write_setpoints(self, zone: str, damper_pct: float, fan_pct: float) -> None:
        from BAC0.core.io.IOExceptions import NoResponseFromController

        points = self.config.zones[zone].points
        writes = []
        for name, value in (("damper_setpoint_pct", damper_pct), ("fan_setpoint_pct", fan_pct)):
            point = points[name]
            assert isinstance(point, BacnetPoint)
            writes.append((point, check_limits(name, value, point.limits)))
        for point, value in writes:
            try:
                answer = self._run(self._lite._write(f"{self._address(point)} {value:g} - {WRITE_PRIORITY}"))
            except NoResponseFromController as exc:
                raise BuildingUnreachable(f"BACnet device {self.building.address}: {exc}") from None
            except ValueError as exc:
                raise PointRefused(f"{point.object_type} {point.instance}: {exc}") from None
            if isinstance(answer, str) and answer.startswith("-"):
                raise PointRefused(f"{point.object_type} {point.instance}: the device answered {answer}")

    def close(self) -> None:
        if self._lite is not None:
            try:
                self._run(self._lite.__aexit__(None, None, None), timeout=10)
            except Exception:  # noqa: BLE001 - closing a stack that is already gone
                log.debug("BACnet stack did not close cleanly", exc_info=True)
            self._lite = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
