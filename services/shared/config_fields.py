"""Config fields that edge configs and central settings both validate the same way.

>>> class Publisher(BrokerAddress, Strict):
...     url: MqttUrl = "mqtt://mosquitto"
...     password_env: EnvName = "ANSHIN_MQTT_PASSWORD"
>>> p = Publisher(url="mqtts://broker.example:8884")
>>> p.host, p.port, p.tls, Publisher().port
('broker.example', 8884, True, 1883)
>>> from pydantic import ValidationError
>>> for bad in ({"url": "tcp://b:1883"}, {"password_env": "PASSWORD\\n"}):
...     try:
...         Publisher(**bad)
...     except ValidationError as exc:
...         print(exc.errors()[0]["msg"].split(" such as")[0])
Value error, must be an mqtt:// or mqtts:// URL
Value error, must be an environment variable name
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator

from services.shared.strict import Strict  # noqa: F401 (used by the doctest)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be an environment variable name such as ANSHIN_EDGE_KEY (the secret itself stays out of the file)")
    return value


def check_mqtt_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("must be an mqtt:// or mqtts:// URL such as mqtt://mosquitto:1883")
    return value


#: The name of an environment variable that holds a secret (never the secret itself).
EnvName = Annotated[str, AfterValidator(_env_name)]
#: A broker address: ``mqtt://host[:port]`` or, with TLS, ``mqtts://host[:port]``.
MqttUrl = Annotated[str, AfterValidator(check_mqtt_url)]


class BrokerAddress:
    """Host, port and TLS of the broker a model's MQTT URL field names (``url`` unless ``_broker_url_field`` says otherwise)."""

    _broker_url_field: ClassVar[str] = "url"

    @property
    def _broker_url(self) -> str:
        return getattr(self, self._broker_url_field) or ""

    @property
    def host(self) -> str:
        return urlsplit(self._broker_url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self._broker_url).scheme == "mqtts"

    @property
    def port(self) -> int:
        return urlsplit(self._broker_url).port or (8883 if self.tls else 1883)
