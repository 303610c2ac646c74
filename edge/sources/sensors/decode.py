"""Pure decoding: Modbus registers to numbers, MQTT payloads to a value and an optional time.

Every function raises :class:`~edge.sources.sensors.base.InvalidReading` with a message that
says what was wrong; the sources log it and skip the reading.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from edge.sources.sensors.base import InvalidReading
from edge.sources.sensors.config import WORDS

_STRUCT = {"int16": ">h", "uint16": ">H", "int32": ">i", "float32": ">f"}


def decode_registers(registers: Sequence[int], data_type: str, word_order: str = "big") -> float:
    """The number held in 16-bit ``registers`` (each big-endian, as Modbus sends them).

    ``word_order`` applies to two-register types: ``big`` = high word first (the Modbus
    convention), ``little`` = low word first (many PLCs and meters).

    >>> decode_registers([0xFFF6], "int16"), decode_registers([0xFFF6], "uint16")
    (-10.0, 65526.0)
    >>> decode_registers([0xFFFF, 0xFFFE], "int32")
    -2.0
    >>> decode_registers([0x41BC, 0x0000], "float32"), decode_registers([0x0000, 0x41BC], "float32", "little")
    (23.5, 23.5)
    >>> decode_registers([1], "float32")
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: float32 needs 2 register(s), got 1
    """
    if data_type not in _STRUCT:
        raise InvalidReading(f"unknown data type {data_type!r}; known: {sorted(_STRUCT)}")
    if word_order not in ("big", "little"):
        raise InvalidReading(f"unknown word order {word_order!r}; known: big, little")
    words = list(registers)
    if len(words) != WORDS[data_type]:
        raise InvalidReading(f"{data_type} needs {WORDS[data_type]} register(s), got {len(words)}")
    if any(not 0 <= w <= 0xFFFF for w in words):
        raise InvalidReading(f"registers must be 16-bit values, got {words}")
    if word_order == "little":
        words.reverse()
    return float(struct.unpack(_STRUCT[data_type], b"".join(w.to_bytes(2, "big") for w in words))[0])


def scaled(raw: float, scale: float = 1.0, offset: float = 0.0) -> float:
    """``raw * scale + offset``, the usual fixed-point convention of Modbus devices.

    >>> scaled(235, 0.1), scaled(-10, 0.1, 0.5)
    (23.5, -0.5)
    """
    # round away the binary noise of decimal scales (235 * 0.1 = 23.500000000000004)
    return round(raw * scale + offset, 9)


def at_path(document: Any, path: str) -> Any:
    """The item at a dotted ``path`` of a JSON document; list items by index.

    >>> at_path({"data": {"co2": 812}}, "data.co2"), at_path({"s": [{"t": 21.5}]}, "s.0.t")
    (812, 21.5)
    >>> at_path({"data": {}}, "data.co2")
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: no 'co2' at 'data' in the payload
    """
    node = document
    walked: list[str] = []
    for key in path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise InvalidReading(f"no {key!r} at {'.'.join(walked)!r} in the payload" if walked else f"no {key!r} at the top level of the payload")
        walked.append(key)
    return node


def parse_number(value: Any) -> float:
    """A finite number from a JSON value: a number, or a string holding one (some gateways quote numbers).

    >>> parse_number(812), parse_number(" 21.5 ")
    (812.0, 21.5)
    >>> parse_number(True)
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: value True is not a number
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidReading(f"value {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise InvalidReading(f"value {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidReading(f"value {value!r} is not a finite number")
    return number


def parse_time(value: Any) -> datetime:
    """A UTC time from ISO 8601 with an offset (``Z`` accepted) or epoch seconds.

    >>> parse_time("2026-01-01T09:00:00+09:00").isoformat(), parse_time(1767225600).isoformat()
    ('2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')
    >>> parse_time("2026-01-01T09:00:00")
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: time '2026-01-01T09:00:00' has no UTC offset
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not 0 <= value < 32_503_680_000:  # before year 3000
            raise InvalidReading(f"epoch time {value!r} is out of range")
        return datetime.fromtimestamp(value, timezone.utc)
    if not isinstance(value, str):
        raise InvalidReading(f"time {value!r} is neither ISO 8601 text nor epoch seconds")
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidReading(f"time {value!r} is not ISO 8601") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidReading(f"time {value!r} has no UTC offset")
    return at.astimezone(timezone.utc)


def parse_payload(payload: bytes, fmt: str = "json", value_path: str = "value", timestamp_path: str | None = None) -> tuple[float, datetime | None]:
    """The value of one MQTT message, and its time when the payload carries one.

    >>> parse_payload(b"415.5", "plain")
    (415.5, None)
    >>> value, at = parse_payload(b'{"co2": 812, "ts": "2026-01-01T00:00:00Z"}', "json", "co2", "ts")
    >>> value, at.isoformat()
    (812.0, '2026-01-01T00:00:00+00:00')
    >>> parse_payload(b"not json", "json")
    Traceback (most recent call last):
    ...
    edge.sources.sensors.base.InvalidReading: payload is not JSON: b'not json'
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidReading(f"payload is not UTF-8 text: {payload[:60]!r}") from None
    if fmt == "plain":
        return parse_number(text), None
    if fmt != "json":
        raise InvalidReading(f"unknown payload format {fmt!r}; known: json, plain")
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidReading(f"payload is not JSON: {payload[:60]!r}") from None
    value = parse_number(at_path(document, value_path))
    at = parse_time(at_path(document, timestamp_path)) if timestamp_path else None
    return value, at
