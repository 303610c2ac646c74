"""Sensor sources against real processes: a pymodbus TCP server in a subprocess and our own
Mosquitto (never the shared one), both killed and restarted on the same port; plus the configs
and the pure decoding. Every wait is bounded.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.publish as mqtt_publish
import pytest
from pydantic import TypeAdapter, ValidationError
from pymodbus.client import ModbusTcpClient

from edge.sources import SourceError
from edge.sources.sensors import (
    ModbusSensorConfig,
    ModbusSensorSource,
    MqttSensorConfig,
    MqttSensorSource,
    SensorConfig,
    SensorError,
    SensorReading,
    SensorRunner,
    sensor_source,
)
from edge.sources.sensors.base import InvalidReading
from edge.sources.sensors.decode import decode_registers, parse_payload, scaled
from services.central.mqtt.local_broker import LocalBroker

FAST = {"initial_delay_s": 0.05, "max_delay_s": 0.2, "max_retries": 100}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def to_registers(value: float, data_type: str, word_order: str = "big") -> list[int]:
    """Registers as a real device would hold them, encoded by pymodbus (not by the code under test)."""
    dt = getattr(ModbusTcpClient.DATATYPE, data_type.upper())
    return ModbusTcpClient.convert_to_registers(int(value) if "int" in data_type else value, dt, word_order)


# ---------------------------------------------------------------------------------- configs

def modbus_config(port: int, **overrides: object) -> ModbusSensorConfig:
    doc: dict[str, object] = {
        "kind": "modbus", "id": "hvac-1", "host": "127.0.0.1", "port": port, "poll_interval_s": 0.05, "timeout_s": 1.0,
        "reconnect": FAST,
        "registers": [
            {"address": 0, "data_type": "int16", "scale": 0.1, "quantity": "temperature_c", "unit": "°C"},
            {"address": 1, "data_type": "float32", "count": 2, "quantity": "co2_ppm", "unit": "ppm"},
            {"address": 3, "data_type": "uint16", "scale": 0.1, "quantity": "humidity_pct", "unit": "%"},
        ],
    }
    doc.update(overrides)
    return ModbusSensorConfig.model_validate(doc)


def test_sensor_configs_are_discriminated_by_kind() -> None:
    adapter = TypeAdapter(list[SensorConfig])
    parsed = adapter.validate_python([
        {"kind": "mqtt", "id": "co2", "url": "mqtt://b:1884", "topic": "s/+/co2", "quantity": "co2_ppm", "unit": "ppm"},
        modbus_config(502).model_dump(),
    ])
    assert [type(c) for c in parsed] == [MqttSensorConfig, ModbusSensorConfig]
    assert parsed[0].port == 1884 and parsed[1].registers[1].words == 2
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        adapter.validate_python([{"kind": "bacnet", "id": "x"}])


@pytest.mark.parametrize(
    ("register", "message"),
    [
        ({"data_type": "float64"}, "data_type\n  Input should be 'int16', 'uint16', 'int32' or 'float32'"),
        ({"data_type": "float32", "count": 1}, "data_type float32 needs count 2, got count 1"),
        ({"data_type": "int16", "count": 2}, "data_type int16 needs count 1, got count 2"),
        ({"data_type": "int16", "count": 3}, "count\n  Input should be 1 or 2"),
        ({"data_type": "int32", "address": 65_535}, "address 65535 + 2 register(s) runs past 65535"),
        ({"data_type": "int16", "scale": 0}, "scale must be finite and non-zero"),
        ({"data_type": "int16", "quantity": "CO2 ppm"}, "must be snake_case"),
        ({"data_type": "int16", "plausible": [10, 5]}, "must be [min, max] with finite min < max, got [10.0, 5.0]"),
        ({"data_type": "int16", "registr": 3}, "registr\n  Extra inputs are not permitted"),
    ],
)
def test_register_config_errors_name_the_problem(register: dict[str, object], message: str) -> None:
    doc = {"address": 0, "quantity": "temperature_c", "unit": "°C", **register}
    with pytest.raises(ValidationError) as info:
        modbus_config(502, registers=[doc])
    assert message in str(info.value)
    assert "registers.0" in str(info.value)  # which register is at fault


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "tcp://b:1883"}, "must be an mqtt:// or mqtts:// URL"),
        ({"topic": "s/co2#"}, "wildcards must fill a whole level"),
        ({"topic": "s/#/co2"}, "# must be the last level"),
        ({"payload": "plain", "timestamp_path": "ts"}, "timestamp_path needs payload: json"),
        ({"password_env": "my password"}, "must be an environment variable name"),
        ({"reconnect": {"initial_delay_s": 10, "max_delay_s": 1}}, "initial_delay_s (10.0) is larger than max_delay_s (1.0)"),
        ({"id": "co2 aisle"}, "id\n  Value error, must be 1-64 letters"),
    ],
)
def test_mqtt_config_errors_name_the_problem(fields: dict[str, object], message: str) -> None:
    doc = {"kind": "mqtt", "id": "co2", "url": "mqtt://b:1883", "topic": "s/+/co2", "quantity": "co2_ppm", "unit": "ppm", **fields}
    with pytest.raises(ValidationError) as info:
        MqttSensorConfig.model_validate(doc)
    assert message in str(info.value)


def test_mqtt_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = MqttSensorConfig(kind="mqtt", id="co2", url="mqtt://b", topic="t", quantity="co2_ppm", unit="ppm",
                           username_env="SENSOR_USER", password_env="SENSOR_PASS")
    monkeypatch.setenv("SENSOR_USER", "edge")
    monkeypatch.delenv("SENSOR_PASS", raising=False)
    assert cfg.credentials() == ("edge", None)
    monkeypatch.setenv("SENSOR_PASS", "s3cret")
    assert cfg.credentials() == ("edge", "s3cret")
    assert "s3cret" not in cfg.model_dump_json()  # the config holds variable names, never secrets


# ---------------------------------------------------------------------------------- decoding

@pytest.mark.parametrize("word_order", ["big", "little"])
@pytest.mark.parametrize(("data_type", "value"), [("int16", -125), ("uint16", 65_000), ("int32", -2_000_000), ("float32", 412.75)])
def test_decoding_inverts_pymodbus_encoding(data_type: str, value: float, word_order: str) -> None:
    assert decode_registers(to_registers(value, data_type, word_order), data_type, word_order) == value


def test_word_order_matters_for_two_register_values() -> None:
    big = to_registers(412.75, "float32", "big")
    assert decode_registers(big, "float32", "big") == 412.75
    assert decode_registers(big, "float32", "little") != 412.75
    assert scaled(decode_registers(to_registers(-125, "int16"), "int16"), 0.1) == -12.5


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{", "payload is not JSON"),
        (b'{"co2": "high"}', "value 'high' is not a number"),
        (b'{"co2": NaN}', "value nan is not a finite number"),
        (b'{"co2": null}', "value None is not a number"),
        (b'{"data": 1}', "no 'co2' at the top level of the payload"),
        (b'{"co2": 800, "ts": "yesterday"}', "time 'yesterday' is not ISO 8601"),
        (b"\xff\xfe", "payload is not UTF-8 text"),
    ],
)
def test_bad_payloads_are_invalid_readings(payload: bytes, message: str) -> None:
    with pytest.raises(InvalidReading, match=message.replace("(", r"\(")):
        parse_payload(payload, "json", "co2", "ts")


def test_reading_times_are_utc() -> None:
    value, at = parse_payload(b'{"v": {"co2": "801"}, "ts": "2026-03-01T10:00:00+09:00"}', "json", "v.co2", "ts")
    assert value == 801.0 and at == datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)
    assert SensorReading("s", "lux", 3, "lx", datetime(2026, 1, 1, 9, tzinfo=timezone.utc), "x").value == 3.0


# ---------------------------------------------------------------------------------- Modbus

SERVER = """
import asyncio, json, sys
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import StartAsyncTcpServer
port, unit, hr, ir = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
# block address 1 is protocol address 0 in pymodbus' sequential blocks
device = ModbusDeviceContext(hr=ModbusSequentialDataBlock(1, hr), ir=ModbusSequentialDataBlock(1, ir))
asyncio.run(StartAsyncTcpServer(ModbusServerContext(devices={unit: device}), address=("127.0.0.1", port)))
"""


class ModbusServer:
    """A pymodbus TCP server process serving fixed holding and input registers for one unit id."""

    def __init__(self, tmp: Path, port: int, unit: int = 1) -> None:
        self.script = tmp / "modbus_server.py"
        self.script.write_text(SERVER)
        self.log = tmp / "modbus_server.log"
        self.port, self.unit = port, unit
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, holding: list[int], inputs: list[int] | None = None, timeout_s: float = 20.0) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(self.script), str(self.port), str(self.unit), json.dumps(holding), json.dumps(inputs or [0])],
                stdout=log, stderr=log,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"modbus server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"modbus server did not listen on {self.port} within {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: a device that loses power, not a polite shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def modbus_server(tmp_path: Path):
    server = ModbusServer(tmp_path, free_port())
    yield server
    server.kill()


def device_registers(temperature_raw: int, co2: float, humidity_raw: int) -> list[int]:
    return to_registers(temperature_raw, "int16") + to_registers(co2, "float32", "big") + to_registers(humidity_raw, "uint16")


@pytest.mark.timeout(60)
def test_modbus_values_are_decoded_and_scaled(modbus_server: ModbusServer) -> None:
    little_float = to_registers(21.25, "float32", "little")
    modbus_server.start(device_registers(-125, 412.75, 555), inputs=little_float + to_registers(-70_000, "int32", "little"))
    with ModbusSensorSource(modbus_config(modbus_server.port)) as source:
        readings = list(source.readings(threading.Event(), max_readings=3))
    assert [(r.quantity, r.value, r.unit) for r in readings] == [("temperature_c", -12.5, "°C"), ("co2_ppm", 412.75, "ppm"), ("humidity_pct", 55.5, "%")]
    assert all(r.sensor_id == "hvac-1" and r.at.tzinfo == timezone.utc for r in readings)
    assert readings[1].source == f"modbus://127.0.0.1:{modbus_server.port}/1/holding/1"

    little = modbus_config(modbus_server.port, word_order="little", registers=[
        {"address": 0, "table": "input", "data_type": "float32", "quantity": "temperature_c", "unit": "°C"},
        {"address": 2, "table": "input", "data_type": "int32", "scale": 0.001, "quantity": "pressure_kpa", "unit": "kPa"},
    ])
    with ModbusSensorSource(little) as source:
        assert [r.value for r in source.readings(threading.Event(), max_readings=2)] == [21.25, -70.0]


@pytest.mark.timeout(60)
def test_modbus_bad_values_and_device_errors_are_skipped(modbus_server: ModbusServer, caplog: pytest.LogCaptureFixture) -> None:
    # -32768 * 0.1 = -3276.8 °C: a sensor fault code, not a temperature
    modbus_server.start(device_registers(-32768, 415.0, 555))
    registers = [r.model_dump() for r in modbus_config(1).registers] + [
        {"address": 900, "data_type": "uint16", "quantity": "lux", "unit": "lx"},  # not served: exception response
    ]
    with caplog.at_level(logging.WARNING, logger="edge.sources.sensors"), ModbusSensorSource(modbus_config(modbus_server.port, registers=registers)) as source:
        readings = list(source.readings(threading.Event(), max_readings=4))
    assert [r.quantity for r in readings] == ["co2_ppm", "humidity_pct"] * 2  # two polls, the bad ones skipped each time
    assert source.skipped == 3  # poll 1: temperature and lux; poll 2: temperature (then max_readings)
    messages = [rec.getMessage() for rec in caplog.records]
    assert any("'hvac-1': skipped holding register 0" in m and "-3276.8 is outside the plausible range [-50.0, 100.0]" in m for m in messages)
    assert any("answered a read of holding register 900 with" in m for m in messages)


@pytest.mark.timeout(90)
def test_modbus_source_survives_a_device_restart(modbus_server: ModbusServer, caplog: pytest.LogCaptureFixture) -> None:
    modbus_server.start(device_registers(215, 600.0, 400))
    source = ModbusSensorSource(modbus_config(modbus_server.port))
    seen: list[SensorReading] = []
    with caplog.at_level(logging.WARNING, logger="edge.sources.sensors"):
        runner = SensorRunner(source, [seen.append]).start()
        try:
            wait_for(lambda: len(seen) >= 6, 20, "readings before the restart")
            modbus_server.kill()
            time.sleep(0.5)  # a poll in flight may still land
            paused_at = len(seen)
            time.sleep(1.0)
            assert len(seen) == paused_at, "readings while the device is down"
            assert runner.alive and runner.error is None
            modbus_server.start(device_registers(230, 650.0, 410))  # same port, new values
            # the whole first poll after the restart: its three readings arrive one by one
            wait_for(lambda: {r.value for r in seen[paused_at:]} >= {23.0, 650.0, 41.0}, 20, "readings after the restart")
        finally:
            runner.stop()
    assert not runner.alive and runner.error is None
    assert source.reconnects >= 1
    assert {r.value for r in seen[paused_at:]} >= {23.0, 650.0, 41.0}
    assert any("reconnecting in" in r.getMessage() and f"127.0.0.1:{modbus_server.port}" in r.getMessage() for r in caplog.records)
    assert any("reconnected to" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(30)
def test_a_modbus_device_that_stays_away_ends_with_a_clear_error() -> None:
    port = free_port()
    cfg = modbus_config(port, reconnect={"initial_delay_s": 0.05, "max_delay_s": 0.1, "max_retries": 3})
    started = time.monotonic()
    with pytest.raises(SensorError) as info:
        list(ModbusSensorSource(cfg).readings(threading.Event()))
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert f"sensor 'hvac-1': gave up on Modbus device modbus://127.0.0.1:{port}/1 after 3 reconnect attempts" in message
    assert isinstance(info.value, SourceError)  # callers that handle camera failures handle this too


# ---------------------------------------------------------------------------------- MQTT

@pytest.fixture
def broker():
    with LocalBroker() as b:  # our own Mosquitto on a free port: restartable, never the shared one
        yield b


def mqtt_config(broker: LocalBroker, **overrides: object) -> MqttSensorConfig:
    doc: dict[str, object] = {
        "kind": "mqtt", "id": "co2-aisle", "url": broker.url, "topic": "store/+/co2", "quantity": "co2_ppm", "unit": "ppm",
        "value_path": "co2", "reconnect": FAST, "connect_timeout_s": 2.0,
    }
    doc.update(overrides)
    return MqttSensorConfig.model_validate(doc)


def publish(broker: LocalBroker, topic: str, payload: str | bytes) -> None:
    mqtt_publish.single(topic, payload, qos=1, hostname="127.0.0.1", port=broker.port)


@pytest.mark.timeout(60)
def test_mqtt_json_readings_and_malformed_payloads_skipped(broker: LocalBroker, caplog: pytest.LogCaptureFixture) -> None:
    source = MqttSensorSource(mqtt_config(broker, timestamp_path="ts"))
    seen: list[SensorReading] = []
    with caplog.at_level(logging.WARNING, logger="edge.sources.sensors"):
        runner = SensorRunner(source, [seen.append], max_readings=2).start()
        try:
            wait_for(lambda: source.subscribed, 10, "the subscription")
            for payload in ['{"co2": 812, "ts": "2026-03-01T10:00:00Z"}', "not json", '{"co2": "high"}', '{"co2": NaN}',
                            '{"co2": 99999, "ts": 1772359200}', '{"temp": 21}', '{"co2": 790.5, "ts": 1772359260}']:
                publish(broker, "store/aisle-3/co2", payload)
            runner.join(15)
        finally:
            runner.stop()
    assert runner.error is None
    assert [(r.value, r.at.isoformat(), r.source) for r in seen] == [
        (812.0, "2026-03-01T10:00:00+00:00", f"{broker.url}/store/aisle-3/co2"),
        (790.5, "2026-03-01T10:01:00+00:00", f"{broker.url}/store/aisle-3/co2"),
    ]
    assert source.skipped == 5
    skipped = [r.getMessage() for r in caplog.records if "skipped a message" in r.getMessage()]
    assert len(skipped) == 5
    assert "sensor 'co2-aisle': skipped a message on store/aisle-3/co2: payload is not JSON" in skipped[0]
    assert "99999.0 is outside the plausible range [0.0, 40000.0]" in skipped[3]


@pytest.mark.timeout(60)
def test_mqtt_plain_number_payloads(broker: LocalBroker) -> None:
    cfg = mqtt_config(broker, topic="store/#", payload="plain", quantity="temperature_c", unit="°C", value_path="value")
    source = sensor_source(cfg)
    assert isinstance(source, MqttSensorSource)
    seen: list[SensorReading] = []
    runner = SensorRunner(source, [seen.append], max_readings=2).start()
    try:
        wait_for(lambda: source.subscribed, 10, "the subscription")
        for topic, payload in [("store/a/temp", "21.5"), ("store/b/temp", "warm"), ("store/c/temp", " -3 ")]:
            publish(broker, topic, payload)
        runner.join(15)
    finally:
        runner.stop()
    assert [(r.value, r.source.rsplit("/", 2)[-2]) for r in seen] == [(21.5, "a"), (-3.0, "c")]
    assert all(r.quantity == "temperature_c" and math.isfinite(r.value) for r in seen)


@pytest.mark.timeout(90)
def test_mqtt_source_resubscribes_after_a_broker_restart(broker: LocalBroker, caplog: pytest.LogCaptureFixture) -> None:
    source = MqttSensorSource(mqtt_config(broker))
    seen: list[SensorReading] = []
    stop_publishing = threading.Event()

    def publish_forever() -> None:  # a sensor sending every 50 ms, whether or not the broker is up
        n = 0
        while not stop_publishing.is_set():
            n += 1
            try:
                publish(broker, "store/aisle-3/co2", json.dumps({"co2": 400 + n}))
            except OSError:
                pass
            stop_publishing.wait(0.05)

    publisher = threading.Thread(target=publish_forever, daemon=True)
    with caplog.at_level(logging.WARNING, logger="edge.sources.sensors"):
        runner = SensorRunner(source, [seen.append]).start()
        try:
            wait_for(lambda: source.subscribed, 10, "the first subscription")
            publisher.start()
            wait_for(lambda: len(seen) >= 5, 15, "readings before the restart")
            assert broker.proc is not None
            broker.proc.kill()  # a crash: no clean shutdown, and the clean session is gone with it
            broker.proc.wait(timeout=10)
            broker.proc = None
            wait_for(lambda: not source.subscribed, 10, "the source to notice the broker is gone")
            last_before = max(r.value for r in seen)
            time.sleep(0.5)
            broker.start()
            wait_for(lambda: any(r.value > last_before for r in seen), 20, "readings after the restart")
        finally:
            stop_publishing.set()
            publisher.join(10)
            runner.stop()
    assert runner.error is None and not runner.alive
    assert source.reconnects >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("sensor 'co2-aisle': connection lost" in m and "topic store/+/co2" in m for m in messages)
    assert any(f"reconnected to {broker.url}" in m for m in messages)


@pytest.mark.timeout(30)
def test_a_broker_that_stays_away_ends_with_a_clear_error() -> None:
    port = free_port()
    cfg = MqttSensorConfig(kind="mqtt", id="co2-aisle", url=f"mqtt://127.0.0.1:{port}", topic="store/+/co2", quantity="co2_ppm",
                           unit="ppm", reconnect={"initial_delay_s": 0.05, "max_delay_s": 0.1, "max_retries": 3})
    runner = SensorRunner(MqttSensorSource(cfg), []).start()
    runner.join(10)
    assert not runner.alive
    assert isinstance(runner.error, SensorError)
    assert str(runner.error).startswith(
        f"sensor 'co2-aisle': gave up on MQTT broker mqtt://127.0.0.1:{port} (topic store/+/co2) after 3 reconnect attempts (last error: "
    )


def test_runner_keeps_delivering_when_a_subscriber_fails(caplog: pytest.LogCaptureFixture) -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)

    class TwoReadings:
        name = "demo"

        def readings(self, stop: threading.Event, max_readings: int | None = None):
            yield from (SensorReading("demo", "lux", v, "lx", at, "test") for v in (10.0, 20.0))

        def close(self) -> None:
            pass

    def broken(_reading: SensorReading) -> None:
        raise ZeroDivisionError("analyzer bug")

    seen: list[float] = []
    with caplog.at_level(logging.ERROR, logger="edge.sources.sensors"):
        runner = SensorRunner(TwoReadings(), [broken, lambda r: seen.append(r.value)]).start()
        runner.join(5)
    assert seen == [10.0, 20.0] and runner.subscriber_errors == 2 and runner.error is None
    assert "ZeroDivisionError: analyzer bug" in caplog.text


def test_a_stopped_runner_starts_again() -> None:
    """A worker's run() may be called twice (anshin bench edge warms up first): its sensors read on."""
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)

    class OneReading:
        name = "demo"
        closed = 0

        def readings(self, stop: threading.Event, max_readings: int | None = None):
            yield SensorReading("demo", "lux", 10.0, "lx", at, "test")

        def close(self) -> None:
            self.closed += 1

    seen: list[float] = []
    source = OneReading()
    runner = SensorRunner(source, [lambda r: seen.append(r.value)])
    for _ in range(2):
        runner.start()
        runner.stop(5)
    assert seen == [10.0, 10.0] and source.closed == 2 and not runner.alive


@pytest.fixture
def auth_broker():
    """Our own Mosquitto with users and an ACL: 'sensor' may read store/allowed/#, 'device' may write store/#."""
    # Mosquitto started as root reads these files after dropping to its own user, and pytest's
    # tmp_path lies under a 0700 folder: use a folder that user can enter.
    folder = Path(tempfile.mkdtemp(prefix="anshin-sensor-auth-"))
    folder.chmod(0o755)
    passwd, acl = folder / "passwd", folder / "acl"
    passwd.touch()
    for user, password in [("sensor", "sensor-pw"), ("device", "device-pw")]:
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True, timeout=30)
    acl.write_text("user sensor\ntopic read store/allowed/#\n\nuser device\ntopic write store/#\n")
    try:
        with LocalBroker(passwd_file=passwd, acl_file=acl) as b:
            yield b
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(60)
def test_mqtt_credentials_come_from_env_variables(auth_broker: LocalBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSOR_USER", "sensor")
    monkeypatch.setenv("SENSOR_PASS", "sensor-pw")
    source = MqttSensorSource(mqtt_config(auth_broker, topic="store/allowed/co2", username_env="SENSOR_USER", password_env="SENSOR_PASS"))
    seen: list[SensorReading] = []
    runner = SensorRunner(source, [seen.append], max_readings=1).start()
    try:
        wait_for(lambda: source.subscribed, 10, "the subscription")
        mqtt_publish.single("store/allowed/co2", '{"co2": 650}', qos=1, hostname="127.0.0.1", port=auth_broker.port,
                            auth={"username": "device", "password": "device-pw"})
        runner.join(10)
    finally:
        runner.stop()
    assert [r.value for r in seen] == [650.0] and runner.error is None


@pytest.mark.timeout(60)
def test_mqtt_wrong_password_ends_with_the_brokers_reason(auth_broker: LocalBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSOR_USER", "sensor")
    monkeypatch.setenv("SENSOR_PASS", "wrong")
    cfg = mqtt_config(auth_broker, username_env="SENSOR_USER", password_env="SENSOR_PASS",
                      reconnect={"initial_delay_s": 0.05, "max_delay_s": 0.1, "max_retries": 2})
    with pytest.raises(SensorError) as info:
        list(MqttSensorSource(cfg).readings(threading.Event()))
    assert "after 2 reconnect attempts (last error: broker refused the connection: Not authorized)" in str(info.value)
