"""The ``iceServers`` handed to the signage and console pages, with short-lived TURN credentials.

With ``ANSHIN_SIGNAGE_TURN_SECRET`` (the same value as coturn's ``static-auth-secret``, see
``docker/coturn/``), a TURN entry without its own username gets credentials of the TURN REST
scheme coturn checks (``use-auth-secret``): the username is ``<expiry unix time>:<who>`` and the
credential is base64(HMAC-SHA1(secret, username)), so no long-lived TURN password reaches a browser.

>>> from services.central.settings import IceServer
>>> servers = [IceServer(urls=["stun:turn.example:3478"]), IceServer(urls=["turn:turn.example:3478"])]
>>> out = ice_servers(servers, "s3cret", ttl_s=600, who="signage-tokyo", now=1_700_000_000)
>>> out[0], out[1]["username"], out[1]["credential"]
({'urls': ['stun:turn.example:3478']}, '1700000600:signage-tokyo', 'eHf8Yn707i6PcrGOq2H4K0OgcX8=')
>>> ice_servers(servers, None, 600, "x", 0)[1]  # no secret: as configured
{'urls': ['turn:turn.example:3478']}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

from services.central.settings import IceServer


def turn_credentials(secret: str, who: str, ttl_s: int, now: float) -> tuple[str, str]:
    username = f"{int(now) + ttl_s}:{who}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()  # coturn's scheme: SHA-1 HMAC
    return username, base64.b64encode(digest).decode()


def ice_servers(servers: Sequence[IceServer], turn_secret: str | None, ttl_s: int, who: str,
                now: float | None = None) -> list[dict[str, Any]]:
    out = []
    for s in servers:
        entry = s.model_dump(exclude_none=True)
        is_turn = any(u.startswith(("turn:", "turns:")) for u in s.urls)
        if turn_secret and is_turn and s.username is None:
            entry["username"], entry["credential"] = turn_credentials(turn_secret, who, ttl_s, time.time() if now is None else now)
        out.append(entry)
    return out
