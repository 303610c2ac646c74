"""Sensor readings reach the analyzers that name their sensor, through the worker, as events in the outbox.

A real MQTT sensor on the shared Mosquitto (its own topic) feeds an analyzer the worker has never
heard of; the store config names the sensor, the analyzer's config names it too.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from types import SimpleNamespace
from typing import Any, ClassVar

import paho.mqtt.client as mqtt
import pytest
from edge_builders import T0, NoDetector, NoTracker

import edge.worker
from edge.config import ConfigError, StoreConfig, load_store_config
from edge.detections import Detections
from edge.worker import EdgeWorker
from services.contract import Event, UseCase

pytestmark = pytest.mark.mqtt


class Co2Watch:
    """Turns every CO2 reading above 1000 ppm into a notice."""

    use_case: ClassVar[UseCase] = UseCase.F
    type: ClassVar[str] = "co2-watch"
    config = SimpleNamespace(sensors=["co2-east"])

    def __init__(self) -> None:
        self.thread_ids: set[int] = set()

    def update(self, tracks: Detections, ctx: Any):
        self.thread_ids.add(threading.get_ident())
        yield from ()

    def on_reading(self, reading: Any, ctx: Any):
        self.thread_ids.add(threading.get_ident())
        if reading.value > 1000:
            yield Event(type="test.co2_high", use_case=UseCase.F, store_id=ctx.store_id, camera_id=ctx.camera_id,
                        occurred_at=ctx.at, severity="notice", payload={"ppm": reading.value, "sensor": reading.sensor_id})


def test_mqtt_readings_become_events_of_the_analyzer_that_names_the_sensor(tmp_path, monkeypatch):
    from edge.paths import media_dir

    topic = f"anshin-test/{secrets.token_hex(4)}/co2"
    config = StoreConfig.model_validate({
        "store_id": "s1", "outbox": {"path": str(tmp_path / "outbox.sqlite")},
        "sensors": [{"kind": "mqtt", "id": "co2-east", "url": "mqtt://127.0.0.1:1883", "topic": topic,
                     "quantity": "co2_ppm", "unit": "ppm"}],
        "cameras": {"door": {"source": str(media_dir() / "bus.jpg"), "loop": True, "fps_limit": 20}},
    })
    watch = Co2Watch()
    monkeypatch.setattr(edge.worker, "build_analyzers", lambda camera: [watch])
    stop = threading.Event()
    with EdgeWorker(config, "door", publish=False, origin=T0, detector=NoDetector(), tracker=NoTracker()) as worker:
        runner = threading.Thread(target=worker.run, kwargs={"stop_event": stop, "max_frames": 400})
        runner.start()
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect("127.0.0.1", 1883)
        publisher.loop_start()
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and worker.outbox.depth() < 2:
                for ppm in (650, 1450, 1800):
                    publisher.publish(topic, json.dumps({"value": ppm}), qos=1).wait_for_publish(5)
                time.sleep(0.3)
        finally:
            publisher.loop_stop()
            publisher.disconnect()
            stop.set()
            runner.join(30)
        queued = [json.loads(item.body) for item in worker.outbox.peek(1000)]
    assert len(queued) >= 2 and {e["type"] for e in queued} == {"test.co2_high"}
    assert {e["payload"]["ppm"] for e in queued} <= {1450.0, 1800.0} and all(e["camera_id"] == "door" for e in queued)
    assert len(watch.thread_ids) == 1, "readings are handed over on the camera thread, never concurrently"


def test_an_analyzer_naming_an_undefined_sensor_is_a_config_error_with_its_line(tmp_path):
    from edge.paths import media_dir

    path = tmp_path / "store.yaml"
    path.write_text(
        "store_id: s1\n"
        "sensors:\n"
        "  - {kind: mqtt, id: co2-east, url: 'mqtt://127.0.0.1:1883', topic: a/b, quantity: co2_ppm, unit: ppm}\n"
        "  - {kind: mqtt, id: co2-east, url: 'mqtt://127.0.0.1:1883', topic: a/c, quantity: co2_ppm, unit: ppm}\n"
        "cameras:\n"
        f"  door: {{source: '{media_dir() / 'bus.jpg'}'}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_store_config(path)
    assert "line 4 sensors[1].id: duplicate sensor id" in str(err.value)


def test_a_sensor_an_analyzer_names_must_be_defined_and_the_nearest_is_suggested():
    from edge.config import check_sensor_refs

    analyzer = SimpleNamespace(type="co2-watch", sensors=["co2-eats"])
    store = SimpleNamespace(sensors=[SimpleNamespace(id="co2-east")],
                            cameras={"door": SimpleNamespace(analyzers=[analyzer])})
    [problem] = list(check_sensor_refs(store))  # type: ignore[arg-type]
    assert problem.path == "cameras.door.analyzers[0].sensors[0]"
    assert "unknown sensor; the store defines ['co2-east']; did you mean 'co2-east'?" in problem.render()
