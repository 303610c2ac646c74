"""MQTT ingest settings from the environment (prefix ``ANSHIN_MQTT_``); secrets only from there.

>>> s = MqttSettings(url="mqtt://broker:1884", client_id="ingest-1")
>>> s.host, s.port, s.tls, s.subscription
('broker', 1884, False, '$share/anshin-ingest/anshin/v1/#')
>>> MqttSettings(url="mqtts://broker").port
8883
"""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.shared.config_fields import BrokerAddress, MqttUrl

#: Every event topic of contract v1: anshin/v1/{store}/{camera}/{event type}.
EVENTS_FILTER = "anshin/v1/#"


class MqttSettings(BrokerAddress, BaseSettings):
    """Where and how a central ingest worker subscribes."""

    model_config = SettingsConfigDict(env_prefix="ANSHIN_MQTT_", extra="ignore", frozen=True)

    url: MqttUrl = Field(default="mqtt://127.0.0.1:1883", description="mqtt://host:port or mqtts://host:port (TLS)")
    username: str | None = Field(default=None, description="broker user of central ingest (read anshin/v1/#)")
    password: SecretStr | None = Field(default=None, description="its password (environment only)")
    client_id: str = Field(
        default_factory=lambda: f"anshin-ingest-{socket.gethostname()}",
        description="stable per worker: the broker keeps this worker's session (and its queued messages) under it",
    )
    share_group: str = Field(default="anshin-ingest", pattern=r"^[A-Za-z0-9_-]+$",
                             description="workers in one group split the messages between them")
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0, description="broker keeps the session this long offline")
    receive_maximum: int = Field(default=65535, ge=1, le=65535,
                                 description="unacknowledged messages the broker may send at once (MQTT 5)")
    batch_size: int = Field(default=500, ge=1, le=5000, description="messages stored per transaction")
    batch_wait_ms: int = Field(default=50, ge=0, le=10_000, description="wait this long to fill a batch")
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    max_payload_bytes: int = Field(default=1_048_576, gt=0, description="larger messages are dead-lettered")
    ca_file: Path | None = Field(
        default=None, description="with mqtts://: PEM file of the CA that signed the broker's certificate (a private CA, "
                                  "docker/mosquitto/make-certs.sh); unset: the system's CAs. Verified, host name checked")



    @property
    def subscription(self) -> str:
        return f"$share/{self.share_group}/{EVENTS_FILTER}"
