"""Build the publisher a store config asks for (``publisher: http`` or ``publisher: mqtt``)."""

from __future__ import annotations

from typing import Any

from edge.outbox import Outbox


def build_publisher(outbox: Outbox, store: Any, camera_id: str) -> Any:
    """An :class:`HttpPublisher` (default) or an :class:`MqttPublisher` for one camera.

    With MQTT, evidence pictures go over the broker too (``anshin/v1/{store}/{camera}/_blob/{sha256}``,
    see ``edge/publish/mqtt.py``): the store's broker user is the only credential the edge needs.
    """
    if getattr(store, "publisher", "http") != "mqtt":
        from edge.publish.http import HttpPublisher

        return HttpPublisher.from_config(outbox, store.central)
    from edge.publish.mqtt import MqttPublisher

    return MqttPublisher.from_config(outbox, store, camera_id)
