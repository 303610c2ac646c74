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
import ssl
from pathlib import Path
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

    def tls_context(self) -> ssl.SSLContext:
        """Client TLS for ``mqtts://``: the broker's certificate is verified (against the model's
        ``ca_file``, e.g. a private CA, else the system's CAs) and must name the host in the URL."""
        return tls_context(getattr(self, "ca_file", None))


def tls_context(ca_file: str | Path | None) -> ssl.SSLContext:
    """A verifying client context (certificate required, host name checked); a clear error when
    ``ca_file`` cannot be read.

    >>> ctx = tls_context(None)
    >>> ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname
    (True, True)
    >>> tls_context("/nonexistent/ca.crt")
    Traceback (most recent call last):
    ...
    ValueError: MQTT TLS: cannot read the CA certificate file /nonexistent/ca.crt (ca_file): No such file or directory
    """
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"MQTT TLS: cannot read the CA certificate file {ca_file} (ca_file): {reason}") from None
