"""Typed config of sensor sources (``sensors:`` in a store YAML), discriminated by ``kind``.

Model-import-free: pydantic and the standard library only, so a config loader can import it
without pulling in paho or pymodbus.

>>> from pydantic import TypeAdapter
>>> sensors = TypeAdapter(list[SensorConfig]).validate_python([
...     {"kind": "mqtt", "id": "co2-aisle", "url": "mqtt://broker:1883", "topic": "store/+/co2",
...      "quantity": "co2_ppm", "unit": "ppm", "value_path": "data.co2"},
...     {"kind": "modbus", "id": "hvac", "host": "10.0.0.7", "registers": [
...         {"address": 0, "data_type": "int16", "scale": 0.1, "quantity": "temperature_c", "unit": "°C"}]},
... ])
>>> [(s.kind, s.id) for s in sensors]
[('mqtt', 'co2-aisle'), ('modbus', 'hvac')]
>>> sensors[0].host, sensors[0].port, sensors[1].registers[0].words
('broker', 1883, 1)
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from services.shared.config_fields import BrokerAddress, EnvName, MqttUrl
from services.shared.strict import Strict

_QUANTITY = re.compile(r"^[a-z][a-z0-9_]*$")
_SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

#: Plausible ranges of well-known quantities: a value outside is a broken sensor or a decoding
#: mistake (wrong scale, word order), not a measurement. A config may declare its own range.
DEFAULT_PLAUSIBLE: dict[str, tuple[float, float]] = {
    "co2_ppm": (0.0, 40_000.0),
    "temperature_c": (-50.0, 100.0),
    "humidity_pct": (0.0, 100.0),
    "lux": (0.0, 200_000.0),
}

#: 16-bit registers each Modbus data type occupies.
WORDS: dict[str, int] = {"int16": 1, "uint16": 1, "int32": 2, "float32": 2}

DataType = Literal["int16", "uint16", "int32", "float32"]
WordOrder = Literal["big", "little"]


class ReconnectConfig(Strict):
    """Exponential backoff for a sensor endpoint that fails: initial, 2x, 4x, ... capped at max_delay_s."""

    initial_delay_s: float = Field(default=0.5, gt=0, le=60, description="first wait, seconds")
    max_delay_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait, seconds")
    max_retries: int = Field(default=10, ge=0, le=1_000_000, description="attempts in a row before giving up")

    @model_validator(mode="after")
    def _initial_within_cap(self) -> ReconnectConfig:
        if self.initial_delay_s > self.max_delay_s:
            raise ValueError(f"initial_delay_s ({self.initial_delay_s}) is larger than max_delay_s ({self.max_delay_s})")
        return self


class _Measured(Strict):
    """What one value measures, and which values are believable."""

    quantity: str = Field(description="what is measured, snake_case with its unit, e.g. co2_ppm, temperature_c")
    unit: str = Field(min_length=1, max_length=16, description="unit for display, e.g. ppm, °C, %")
    plausible: tuple[float, float] | None = Field(
        default=None, description="[min, max] of believable values; default: the quantity's known range, if any"
    )

    @field_validator("quantity")
    @classmethod
    def _quantity_name(cls, value: str) -> str:
        if not _QUANTITY.fullmatch(value):
            raise ValueError("must be snake_case such as co2_ppm, temperature_c or humidity_pct")
        return value

    @field_validator("plausible")
    @classmethod
    def _range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
            raise ValueError(f"must be [min, max] with finite min < max, got {list(value)}")
        return value

    def plausible_range(self) -> tuple[float, float] | None:
        """The declared range, else the quantity's default range, else None (any finite value)."""
        return self.plausible or DEFAULT_PLAUSIBLE.get(self.quantity)


class _SensorBase(Strict):
    id: str = Field(description="sensor id, unique in the store; readings carry it")
    reconnect: ReconnectConfig = ReconnectConfig()

    @field_validator("id")
    @classmethod
    def _sensor_id(cls, value: str) -> str:
        if not _SENSOR_ID.fullmatch(value):
            raise ValueError("must be 1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit")
        return value


class MqttSensorConfig(BrokerAddress, _SensorBase, _Measured):
    """Readings published on an MQTT topic, one value per message.

    ``payload: json`` reads the value (and optionally the time) at dotted paths of a JSON
    object (``data.co2``); ``payload: plain`` takes the whole payload as one number.
    """

    kind: Literal["mqtt"]
    url: MqttUrl = Field(description="mqtt://host:port, or mqtts://host:port for TLS")
    topic: str = Field(min_length=1, max_length=512, description="topic filter; + and # wildcards allowed")
    qos: Literal[0, 1] = Field(default=1, description="subscription QoS")
    payload: Literal["json", "plain"] = Field(default="json", description="json object, or a plain number")
    value_path: str = Field(default="value", min_length=1, description="json: dotted path to the value")
    timestamp_path: str | None = Field(
        default=None, description="json: dotted path to the reading time (ISO 8601 with offset, or epoch seconds); default: time received"
    )
    username_env: EnvName | None = Field(default=None, description="environment variable holding the broker user")
    password_env: EnvName | None = Field(default=None, description="environment variable holding the broker password")
    client_id: str | None = Field(default=None, max_length=128, description="default anshin-sensor-{id}")
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive, seconds")
    connect_timeout_s: float = Field(default=10.0, gt=0, le=300, description="wait this long for the broker's CONNACK, seconds")
    ca_file: Path | None = Field(
        default=None, description="with mqtts://: PEM file of the CA that signed the broker's certificate; default: the system's CAs")


    @field_validator("topic")
    @classmethod
    def _topic_filter(cls, value: str) -> str:
        levels = value.split("/")
        for i, level in enumerate(levels):
            if ("#" in level and (level != "#" or i != len(levels) - 1)) or ("+" in level and level != "+"):
                raise ValueError("wildcards must fill a whole level, and # must be the last level (e.g. store/+/co2, store/#)")
        return value

    @model_validator(mode="after")
    def _json_only_options(self) -> MqttSensorConfig:
        if self.payload == "plain" and self.timestamp_path is not None:
            raise ValueError("timestamp_path needs payload: json (a plain payload is only a number)")
        return self


    def credentials(self) -> tuple[str | None, str | None]:
        """(user, password) from the environment; None where a variable is not configured or unset."""
        def env(name: str | None) -> str | None:
            return (os.environ.get(name) or None) if name else None

        return env(self.username_env), env(self.password_env)


class ModbusRegisterConfig(_Measured):
    """One value held in one or two 16-bit registers: ``value = raw * scale + offset``."""

    address: int = Field(ge=0, le=65_535, description="0-based register address (documented 40001 is address 0)")
    table: Literal["holding", "input"] = Field(default="holding", description="holding (function 3) or input (function 4) registers")
    data_type: DataType = Field(description="int16, uint16 (1 register), int32, float32 (2 registers)")
    count: Literal[1, 2] | None = Field(default=None, description="registers read; default: what data_type needs")
    scale: float = Field(default=1.0, description="multiplies the raw value")
    offset: float = Field(default=0.0, description="added after scaling")

    @model_validator(mode="after")
    def _count_fits_type(self) -> ModbusRegisterConfig:
        needed = WORDS[self.data_type]
        if self.count is not None and self.count != needed:
            raise ValueError(f"data_type {self.data_type} needs count {needed}, got count {self.count}")
        if self.address + needed - 1 > 65_535:
            raise ValueError(f"address {self.address} + {needed} register(s) runs past 65535")
        if not (math.isfinite(self.scale) and math.isfinite(self.offset)) or self.scale == 0:
            raise ValueError("scale must be finite and non-zero, offset finite")
        return self

    @property
    def words(self) -> int:
        return WORDS[self.data_type]


class ModbusSensorConfig(_SensorBase):
    """Registers polled from a Modbus TCP device (a gateway, an HVAC controller, a CO2 meter)."""

    kind: Literal["modbus"]
    host: str = Field(min_length=1, description="device or gateway host name or IP address")
    port: int = Field(default=502, ge=1, le=65_535)
    unit_id: int = Field(default=1, ge=0, le=255, description="Modbus unit (slave/device) id")
    poll_interval_s: float = Field(default=10.0, gt=0, le=86_400, description="seconds between polls")
    timeout_s: float = Field(default=3.0, gt=0, le=60, description="response timeout per request, seconds")
    word_order: WordOrder = Field(default="big", description="two-register values: big = high word first (Modbus default)")
    registers: list[ModbusRegisterConfig] = Field(min_length=1, description="values read on every poll")

    @property
    def endpoint(self) -> str:
        return f"modbus://{self.host}:{self.port}/{self.unit_id}"


SensorConfig = Annotated[Union[MqttSensorConfig, ModbusSensorConfig], Field(discriminator="kind")]
