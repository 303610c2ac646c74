"""Sensor sources: readings that do not come from a camera (CO2, temperature, humidity, lux),
from an MQTT topic or polled from Modbus TCP registers, with the same reconnect backoff as cameras.

>>> from edge.sources.sensors.config import ModbusSensorConfig
>>> cfg = ModbusSensorConfig(kind="modbus", id="hvac", host="127.0.0.1", registers=[
...     {"address": 0, "data_type": "int16", "quantity": "temperature_c", "unit": "°C"}])
>>> type(sensor_source(cfg)).__name__
'ModbusSensorSource'
"""

from __future__ import annotations

from edge.sources.sensors.base import InvalidReading, ReadingAnalyzer, SensorError, SensorReading, SensorSource
from edge.sources.sensors.config import ModbusRegisterConfig, ModbusSensorConfig, MqttSensorConfig, SensorConfig
from edge.sources.sensors.modbus import ModbusSensorSource
from edge.sources.sensors.mqtt import MqttSensorSource
from edge.sources.sensors.runner import SensorRunner


def sensor_source(config: MqttSensorConfig | ModbusSensorConfig) -> SensorSource:
    """The source for one sensor config (by its ``kind``)."""
    if isinstance(config, MqttSensorConfig):
        return MqttSensorSource(config)
    if isinstance(config, ModbusSensorConfig):
        return ModbusSensorSource(config)
    raise TypeError(f"no sensor source for {type(config).__name__}")


__all__ = [
    "InvalidReading", "ModbusRegisterConfig", "ModbusSensorConfig", "ModbusSensorSource", "MqttSensorConfig",
    "MqttSensorSource", "ReadingAnalyzer", "SensorConfig", "SensorError", "SensorReading", "SensorRunner",
    "SensorSource", "sensor_source",
]
