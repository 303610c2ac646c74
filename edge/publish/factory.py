"""Build the publisher a store config asks for (``publisher: http`` or ``publisher: mqtt``)."""

from __future__ import annotations

import logging
from typing import Any

from edge.outbox import Outbox

log = logging.getLogger(__name__)


def build_publisher(outbox: Outbox, store: Any, camera_id: str) -> Any:
    """An :class:`HttpPublisher` (default) or an :class:`MqttPublisher` for one camera.

    With MQTT, evidence pictures still go to central over HTTP (``POST /api/v1/snapshots``) when
    the store's ``central.api_key_env`` is set; without it, events go without their pictures.
    """
    from edge.publish.http import HttpPublisher

    if getattr(store, "publisher", "http") != "mqtt":
        return HttpPublisher.from_config(outbox, store.central)
    from edge.config import MissingApiKeyError
    from edge.publish.mqtt import MqttPublisher

    publisher = MqttPublisher.from_config(outbox, store, camera_id)
    try:
        publisher.snapshots = HttpPublisher.from_config(outbox, store.central)
    except MissingApiKeyError:
        log.warning("publisher mqtt: %s unset, so evidence pictures are not uploaded (events still are)",
                    store.central.api_key_env)
    return publisher
