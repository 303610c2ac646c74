"""Run one site's ventilation as the edge does: the agent's loop, its durable outbox and publisher
to central, and the HTTP command channel, each on a thread; optionally with the simulated air
handler (a process) whose occupants follow what F counts (the demo).

>>> from edge.usecases.ventilation.config import load
>>> from edge.paths import PROJECT_ROOT
>>> site = load(PROJECT_ROOT / "config" / "demo-store-ventilation.yaml")
>>> VentilationSite.occupancy_of(site, lambda camera, zone: {"concourse": 31.0}.get(zone))("sales-floor")
31.0
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from edge.commands.http import HttpCommandChannel
from edge.commands.receiver import CommandReceiver
from edge.outbox import Outbox
from edge.usecases.ventilation.agent import VentilationAgent
from edge.usecases.ventilation.building import Building, ModbusBuilding
from edge.usecases.ventilation.config import VentilationConfig
from edge.usecases.ventilation.simulator import OCCUPANTS_BASE, SimulatorProcess

log = logging.getLogger(__name__)

#: F's live count of one zone of one camera, or None when that camera is not running.
ZoneCount = Callable[[str, str], float | None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VentilationSite:
    """Everything one site's ventilation needs on the edge; :meth:`start`, then :meth:`stop`.

    Args:
        config: the site.
        central_url, api_key: central and a store-bound key (``events:write`` also polls commands).
        data_dir: where the outbox and the command ledger live.
        count: F's live counts (camera, zone) → people.
        simulate_speed: run the simulated air handler at this speed (building s per real s) on a free
            port instead of talking to ``config.building``; the controller's clock is scaled to match.
    """

    def __init__(self, config: VentilationConfig, *, central_url: str, api_key: str, data_dir: Path, count: ZoneCount,
                 simulate_speed: float | None = None, command_wait_s: float = 5.0) -> None:
        self.config = config
        self.central_url, self.api_key, self.data_dir = central_url, api_key, Path(data_dir)
        self.count = count
        self.simulate_speed = simulate_speed
        self.command_wait_s = command_wait_s  # one long-poll; stop() waits for the one in flight
        self.simulator: SimulatorProcess | None = None
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.agent: VentilationAgent | None = None
        self._closers: list[Callable[[], None]] = []

    @staticmethod
    def occupancy_of(config: VentilationConfig, count: ZoneCount) -> Callable[[str], float | None]:
        """zone → people: the sum of F's counts over the zone's source zones (None if none known)."""

        def occupants(zone: str) -> float | None:
            source = config.zones[zone].occupancy
            if source is None:
                return None
            counts = [count(source.camera, z) for z in source.zones]
            known = [c for c in counts if c is not None]
            return float(sum(known)) if known else None

        return occupants

    def _simulate(self) -> VentilationConfig:
        assert self.simulate_speed is not None
        port = _free_port()
        doc = self.config.model_dump(mode="json")
        doc["building"]["port"] = port
        doc["control"]["clock_scale"] = self.simulate_speed
        path = self.data_dir / f"{self.config.store_id}-ventilation-simulated.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        self.simulator = SimulatorProcess(path, port, self.simulate_speed,
                                          log_path=self.data_dir / "ventilation-simulator.log").start()
        log.info("simulated air handler on 127.0.0.1:%d at %.0fx", port, self.simulate_speed)
        return VentilationConfig.model_validate(doc)

    def start(self) -> VentilationSite:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._simulate() if self.simulate_speed else self.config
        self.config = config
        building: Building
        if config.building.protocol == "modbus":
            building = ModbusBuilding(config)
        else:
            from edge.usecases.ventilation.bacnet import BacnetBuilding

            building = BacnetBuilding(config)
        self._closers.append(building.close)
        stem = f"{config.store_id}-{config.device_id}"
        outbox = Outbox(self.data_dir / f"{stem}-outbox.sqlite")
        self._closers.append(outbox.close)
        occupants = self.occupancy_of(config, self.count)
        self.agent = VentilationAgent(config, building, occupants, lambda event: outbox.append([event]))
        receiver = CommandReceiver(config.store_id, config.device_id, self.agent.handle, self.data_dir / f"{stem}-commands.sqlite")
        self._closers.append(receiver.close)
        channel = HttpCommandChannel(receiver, self.central_url, self.api_key, wait_s=self.command_wait_s)
        self._closers.append(channel.close)
        from edge.publish.http import HttpPublisher

        publisher = HttpPublisher(outbox, self.central_url, self.api_key)
        loops: list[tuple[str, Callable[[threading.Event], None]]] = [
            ("ventilation-agent", self.agent.run), ("ventilation-commands", channel.run),
            ("ventilation-publisher", publisher.run)]
        if self.simulator is not None:
            loops.append(("ventilation-people", self._people))
        for name, target in loops:
            thread = threading.Thread(target=target, args=(self.stop_event,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _people(self, stop: threading.Event) -> None:
        """The demo's store: the people F counts breathe in the simulated zones (once a second)."""
        from pymodbus.client import ModbusTcpClient

        assert self.simulator is not None
        occupants = self.occupancy_of(self.config, self.count)
        client = ModbusTcpClient("127.0.0.1", port=self.simulator.port, timeout=1, retries=0)
        try:
            while not stop.is_set():
                try:
                    if client.connect():
                        for k, zone in enumerate(self.config.zones):
                            n = occupants(zone)
                            if n is not None:
                                client.write_register(OCCUPANTS_BASE + k, max(0, min(65535, round(n))), device_id=1)
                except Exception as exc:  # noqa: BLE001 - the simulator may be restarting; try again next second
                    log.debug("could not set simulated occupants: %s", exc)
                stop.wait(1.0)
        finally:
            client.close()

    def stop(self) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + 15
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing what is already gone
                log.debug("closing the ventilation site", exc_info=True)
        if self.simulator is not None:
            self.simulator.stop()
