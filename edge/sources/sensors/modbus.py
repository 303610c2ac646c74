"""Readings polled from Modbus TCP registers (pymodbus ``ModbusTcpClient``).

Every ``poll_interval_s`` each configured register is read, decoded
(:func:`~edge.sources.sensors.decode.decode_registers`), scaled and checked. A device that
answers a read with a Modbus exception (illegal address, device busy) costs that one reading,
logged; a connection that fails (refused, reset, timed out) is reopened with the same
:class:`~edge.sources.Backoff` as cameras, and a device that stays away ends the source with a
:class:`SensorError` naming the sensor and the endpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge.sources.sensors.base import InvalidReading, SensorError, SensorReading, checked_value, reconnect
from edge.sources.sensors.config import ModbusRegisterConfig, ModbusSensorConfig
from edge.sources.sensors.decode import decode_registers, scaled
from edge.sources.video import Backoff

log = logging.getLogger(__name__)


class ModbusSensorSource:
    """Poll the registers of one Modbus TCP device (one unit id).

    Args:
        config: the device and its registers.
        client_factory: opens a client for ``(host, port, timeout_s)``; inject in tests of odd devices.

    Attributes:
        reconnects: successful reconnections, for health reports.
        skipped: register reads that gave no reading (exception response or invalid value).
    """

    def __init__(self, config: ModbusSensorConfig, client_factory: Callable[[str, int, float], Any] | None = None) -> None:
        self.config = config
        self.name = config.id
        self.endpoint = config.endpoint
        r = config.reconnect
        self.backoff = Backoff(r.initial_delay_s, r.max_delay_s, r.max_retries)
        self.reconnects = 0
        self.skipped = 0
        self._client_factory = client_factory or _tcp_client
        self._client: Any = None

    # ------------------------------------------------------------------ connection

    def _try_connect(self) -> str | None:
        """One connection attempt; None on success, else why it failed."""
        self.close()
        client = self._client_factory(self.config.host, self.config.port, self.config.timeout_s)
        try:
            connected = client.connect()
        except (OSError, ModbusException) as exc:
            connected, failure = False, f"{type(exc).__name__}: {exc}"
        else:
            failure = "connection refused or timed out"
        if not connected:
            client.close()
            return failure
        self._client = client
        return None

    def _reconnect(self, stop: threading.Event, why: str) -> bool:
        """Connect with backoff; True when connected, False when stopped; SensorError when out of retries."""
        try:
            connected = reconnect(self.name, "Modbus device", self.endpoint, self.backoff, stop, why, self._try_connect)
        except SensorError as exc:
            self.close()
            raise SensorError(f"{exc}; check the device, its address, port and unit id, and the network") from None
        self.reconnects += connected
        return connected

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ModbusSensorSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def read_register(self, register: ModbusRegisterConfig) -> SensorReading | None:
        """Read, decode and check one register; None (logged) when the device answered with an error
        or the value is not believable. Connection failures raise (``ModbusException``, ``OSError``)."""
        cfg = self.config
        read = self._client.read_input_registers if register.table == "input" else self._client.read_holding_registers
        response = read(register.address, count=register.words, device_id=cfg.unit_id)
        where = f"{register.table} register {register.address}"
        if response.isError():
            self.skipped += 1
            log.warning("sensor %r: %s answered a read of %s with %s", self.name, self.endpoint, where, response)
            return None
        try:
            raw = decode_registers(response.registers, register.data_type, cfg.word_order)
            value = checked_value(scaled(raw, register.scale, register.offset), register.quantity, register.plausible_range())
            return SensorReading(cfg.id, register.quantity, value, register.unit, datetime.now(timezone.utc), f"{self.endpoint}/{register.table}/{register.address}")
        except InvalidReading as exc:
            self.skipped += 1
            log.warning("sensor %r: skipped %s of %s: %s", self.name, where, self.endpoint, exc)
            return None

    def readings(self, stop: threading.Event | None = None, max_readings: int | None = None) -> Iterator[SensorReading]:
        """Yield one reading per register and poll, until ``stop`` is set or ``max_readings`` were yielded.

        Raises:
            SensorError: the device could not be reached within ``reconnect.max_retries`` attempts.
        """
        stop = stop or threading.Event()
        emitted = 0
        try:
            failure = self._try_connect()
            if failure is not None and not self._reconnect(stop, failure):
                return
            while not stop.is_set() and (max_readings is None or emitted < max_readings):
                started = time.monotonic()
                lost: str | None = None
                for register in self.config.registers:
                    try:
                        reading = self.read_register(register)
                    except (ModbusException, OSError) as exc:
                        lost = f"{type(exc).__name__}: {exc}"
                        break
                    if reading is not None:
                        emitted += 1
                        yield reading
                    if (max_readings is not None and emitted >= max_readings) or stop.is_set():
                        return
                if lost is not None:
                    if not self._reconnect(stop, lost):
                        return
                    continue  # poll again at once: the device is back
                stop.wait(max(0.0, self.config.poll_interval_s - (time.monotonic() - started)))
        finally:
            self.close()


def _tcp_client(host: str, port: int, timeout_s: float) -> ModbusTcpClient:
    # retries=0: one attempt per read; reconnecting with backoff is this module's job
    return ModbusTcpClient(host, port=port, timeout=timeout_s, retries=0)
