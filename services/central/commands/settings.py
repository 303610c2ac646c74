"""Command delivery settings from the environment (prefix ``ANSHIN_COMMANDS_``); secrets only from there.

Without ``ANSHIN_COMMANDS_MQTT_URL`` central publishes nothing and devices fetch their commands
with the HTTP long-poll (stores without a broker); with it, each command is also published on
``anshin/v1/{store}/{device}/_cmd`` (QoS 1) as soon as it is issued.

>>> s = CommandSettings(mqtt_url="mqtt://broker:1884", client_id="cmd-1")
>>> s.host, s.port, s.tls, s.subscription
('broker', 1884, False, '$share/anshin-commands/anshin/v1/+/+/_cmd_result')
>>> CommandSettings().mqtt_url is None
True
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.contract.commands import RESULT_TOPIC_LEVEL
from services.shared.config_fields import BrokerAddress, check_mqtt_url

#: Every device's result topic: anshin/v1/{store}/{device}/_cmd_result.
RESULTS_FILTER = f"anshin/v1/+/+/{RESULT_TOPIC_LEVEL}"


class CommandSettings(BrokerAddress, BaseSettings):
    """Where central publishes commands and reads results, and the HTTP long-poll bounds."""

    model_config = SettingsConfigDict(env_prefix="ANSHIN_COMMANDS_", extra="ignore", frozen=True)
    _broker_url_field: ClassVar[str] = "mqtt_url"

    mqtt_url: str | None = Field(default=None, description="mqtt://host:port or mqtts://host:port; unset: HTTP long-poll only")
    username: str | None = Field(default=None, description="broker user of central (write anshin/v1/+/+/_cmd, read .../_cmd_result)")
    password: SecretStr | None = Field(default=None, description="its password (environment only)")
    client_id: str = Field(
        default_factory=lambda: f"anshin-commands-{socket.gethostname()}"[:128],
        description="stable per result listener: the broker keeps its session (and queued results) under it",
    )
    share_group: str = Field(default="anshin-commands", pattern=r"^[A-Za-z0-9_-]+$",
                             description="result listeners in one group split the results between them")
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0, description="broker keeps the listener's session this long offline")
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    publish_timeout_s: float = Field(default=5.0, gt=0, le=60, description="wait this long for the broker's PUBACK")
    default_ttl_s: int = Field(default=300, ge=1, le=86_400, description="a command expires this long after issue unless asked otherwise")
    poll_max_wait_s: float = Field(default=30.0, ge=0, le=120, description="longest wait of one HTTP long-poll")
    poll_interval_s: float = Field(default=0.25, gt=0, le=5, description="a waiting long-poll looks for new commands this often")
    republish_every_s: float = Field(default=10.0, gt=0, le=3600,
                                     description="the listener publishes commands the API could not (broker away) this often")
    max_payload_bytes: int = Field(default=65_536, gt=0, description="larger result messages are dropped with an error line")
    ca_file: Path | None = Field(
        default=None, description="with mqtts://: PEM file of the CA that signed the broker's certificate (a private CA, "
                                  "docker/mosquitto/make-certs.sh); unset: the system's CAs. Verified, host name checked")

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if not value:  # unset or empty: no broker
            return None
        return check_mqtt_url(value)


    @property
    def subscription(self) -> str:
        return f"$share/{self.share_group}/{RESULTS_FILTER}"
