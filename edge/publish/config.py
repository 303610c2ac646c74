"""Store-config section of the MQTT publisher (``publisher: mqtt`` in a store YAML).

>>> cfg = MqttConfig(url="mqtt://broker:1883")
>>> cfg.host, cfg.port, cfg.tls
('broker', 1883, False)
>>> cfg.client_id_for("tokyo-01", "entrance"), cfg.username_for("tokyo-01")
('anshin-edge-tokyo-01-entrance', 'tokyo-01')
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from services.shared.config_fields import BrokerAddress, EnvName, MqttUrl
from services.shared.placeholders import PlaceholderSecretError, is_placeholder
from services.shared.strict import Strict


class MqttConfig(BrokerAddress, Strict):
    """Broker connection of one store's edge workers (QoS 1, persistent session)."""

    url: MqttUrl = Field(default="mqtt://127.0.0.1:1883", description="mqtt://host:port, or mqtts://host:port for TLS")
    username: str | None = Field(default=None, description="broker user; default: the store_id (one user per store)")
    password_env: EnvName = Field(
        default="ANSHIN_MQTT_PASSWORD", description="environment variable holding the broker password (never the password itself)"
    )
    client_id: str | None = Field(
        default=None, max_length=128, description="default anshin-edge-{store}-{camera}; must be unique per camera"
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive, seconds")
    session_expiry_s: int = Field(default=86_400, ge=0, le=2**32 - 1, description="broker keeps the session this long offline, seconds")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="events published before waiting for their PUBACKs")
    ack_timeout_s: float = Field(default=10.0, gt=0, le=600, description="wait this long for PUBACKs, seconds")
    delivery_timeout_s: float = Field(
        default=60.0, gt=0, le=86_400,
        description="send an event again when central has not acknowledged storing it this long after its PUBACK, seconds")
    retry_initial_s: float = Field(default=0.5, gt=0, le=60, description="first retry delay, seconds")
    retry_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest retry delay, seconds")
    ca_file: Path | None = Field(
        default=None, description="with mqtts://: PEM file of the CA that signed the broker's certificate (a private CA); "
                                  "unset: the system's CAs. The certificate is always verified and must name the host")




    def username_for(self, store_id: str) -> str:
        return self.username or store_id

    def client_id_for(self, store_id: str, camera_id: str) -> str:
        return self.client_id or f"anshin-edge-{store_id}-{camera_id}"[:128]

    def password(self) -> str | None:
        """The broker password from the environment; None (anonymous) when the variable is unset;
        :class:`PlaceholderSecretError` while it holds a placeholder of docker/env.example."""
        value = os.environ.get(self.password_env) or None
        if value is not None and is_placeholder(value):
            raise PlaceholderSecretError([self.password_env])
        return value
