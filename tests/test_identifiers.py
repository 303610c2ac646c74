"""A name that looks right but ends in a newline is refused everywhere a name is checked.

``re.match`` with ``$`` accepts ``"name\\n"`` (``$`` matches before a final newline), which once
let ``storeA\\n`` become a look-alike store; every check must match the whole value.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from edge.config import CentralConfig
from edge.sources.sensors.config import MqttSensorConfig
from services.contract import Event, UseCase
from services.contract.commands import Command


def _sensor(**change):
    fields = {"kind": "mqtt", "id": "co2", "url": "mqtt://127.0.0.1:1883", "topic": "a/b", "quantity": "co2_ppm", "unit": "ppm"}
    return MqttSensorConfig(**{**fields, **change})


def _command(**change):
    now = datetime.now(timezone.utc)
    fields = {"store_id": "s1", "device_id": "ahu-1", "action": "test.echo", "issued_by": "user:1",
              "issued_at": now, "expires_at": now + timedelta(minutes=1)}
    return Command(**{**fields, **change})


def _event(**change):
    fields = {"type": "zone.occupancy", "use_case": UseCase.F, "store_id": "s1", "camera_id": "c1",
              "occurred_at": datetime.now(timezone.utc), "payload": {"zone": "a", "count": 1, "capacity": 2, "occupancy_ratio": 0.5}}
    return Event(**{**fields, **change})


@pytest.mark.parametrize(("build", "field"), [
    (_event, "store_id"), (_event, "camera_id"), (_event, "type"),
    (_sensor, "id"), (_sensor, "quantity"), (_sensor, "password_env"),
    (_command, "store_id"), (_command, "device_id"), (_command, "action"),
    (lambda **c: CentralConfig(**c), "api_key_env"),
])
def test_a_trailing_newline_is_refused(build, field):
    good = {"store_id": "s1", "camera_id": "c1", "type": "zone.occupancy", "id": "co2", "quantity": "co2_ppm",
            "password_env": "MQTT_PASSWORD", "device_id": "ahu-1", "action": "test.echo", "api_key_env": "ANSHIN_EDGE_KEY"}[field]
    build(**{field: good})  # the name itself is fine
    with pytest.raises(ValidationError):
        build(**{field: good + "\n"})



def test_central_names_are_checked_whole():
    from services.central.snapshots.blobs import parse_ref
    from services.central.users.service import valid_name
    from services.central.webhooks.service import WebhookError, _check

    assert valid_name("tanaka") and not valid_name("tanaka\n")
    digest = "ab" * 32
    assert parse_ref(f"sha256:{digest}") == digest and parse_ref(f"sha256:{digest}\n") is None
    _check("hook", "https://example.com/in", ["zone.overcrowded"], ["example.com"])
    for name, url, types in [("hook\n", "https://example.com/in", []), ("hook", "https://example.com/in\n", []),
                             ("hook", "https://example.com/in", ["zone.overcrowded\n"])]:
        with pytest.raises(WebhookError):
            _check(name, url, types, ["example.com"])
