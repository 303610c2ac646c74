"""Where a webhook may point: public addresses only, unless the operator allows more.

A webhook is a request central makes on an integrator's behalf, so a URL naming an internal
address would let a key holder reach services behind central and read their answers (SSRF).
Refused: loopback, private, link-local (cloud metadata at 169.254.169.254 included), shared
(100.64/10), unspecified, multicast, reserved and documentation ranges, in IPv4 and IPv6,
including IPv4 addresses embedded in IPv6 (mapped, 6to4, Teredo, NAT64), and the legacy numeric
forms resolvers accept (``2130706433``, ``0177.0.0.1``, ``0x7f.1``). Well-known internal names
(``localhost``, ``metadata.google.internal``) are refused by name.

The check runs twice: on the URL when a webhook is created (:func:`check_url`: literal
addresses and names, no DNS lookup in the request path), and at every delivery on the addresses
the name resolves to *then* (:func:`resolve`); the dispatcher connects to the checked address
itself, so a name that resolves differently a moment later (DNS rebinding) changes nothing.

Exceptions come only from the operator: ``ANSHIN_WEBHOOK_ALLOW_HOSTS``, a JSON list of host
names and IP networks (``["hooks.internal.example", "10.20.0.0/16"]``).

>>> check_url("https://hooks.example.com/anshin", ())
>>> for url in ("http://127.0.0.1:8080/", "http://2130706433/", "http://0177.0.0.1/", "http://[::ffff:10.0.0.1]/",
...             "http://169.254.169.254/latest/meta-data", "http://localhost./", "http://[fd00:ec2::254]/"):
...     try:
...         check_url(url, ())
...     except TargetRefused as refused:
...         print(refused)
127.0.0.1 is a loopback address; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
2130706433 is a loopback address; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
0177.0.0.1 is a loopback address; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
::ffff:10.0.0.1 is a private address; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
169.254.169.254 is a link-local address; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
localhost. is an internal host name; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
fd00:ec2::254 is a private address; webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)
>>> check_url("http://127.0.0.1:8080/", parse_allowlist(["127.0.0.1/32"]))
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Names that lead inside whatever the address they resolve to (cloud metadata services, the host itself).
INTERNAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data", "metadata.azure.internal"})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HINT = "webhooks reach public addresses only (an operator may allow it: ANSHIN_WEBHOOK_ALLOW_HOSTS)"


class TargetRefused(ValueError):
    """The URL or the address it resolved to is not a place webhooks may go; the message says why."""


@dataclass(frozen=True, slots=True)
class Allowlist:
    """The operator's exceptions: exact host names and IP networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    def allows_name(self, host: str) -> bool:
        return host.rstrip(".").lower() in self.names

    def allows_ip(self, ip: IP) -> bool:
        return any(ip.version == n.version and ip in n for n in self.networks)


def parse_allowlist(entries: Iterable[str] | Allowlist) -> Allowlist:
    """``["hooks.example", "10.0.0.0/8", "::1"]`` → :class:`Allowlist` (raises ValueError on junk).

    >>> parse_allowlist(["Hooks.Example", "10.0.0.0/8"]).allows_name("hooks.example")
    True
    """
    if isinstance(entries, Allowlist):
        return entries
    names: set[str] = set()
    networks: list[Network] = []
    for entry in entries:
        entry = entry.strip()
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if not entry or "/" in entry or " " in entry:
                raise ValueError(f"webhook allowlist entry {entry!r}: a host name or an IP network") from None
            names.add(entry.rstrip(".").lower())
    return Allowlist(frozenset(names), tuple(networks))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def why_refused(ip: IP) -> str | None:
    """What kind of non-public address ``ip`` is, or None for a public one.

    >>> why_refused(ipaddress.ip_address("93.184.216.34")), why_refused(ipaddress.ip_address("::ffff:127.0.0.1"))
    (None, 'loopback')
    >>> why_refused(ipaddress.ip_address("100.100.100.200")), why_refused(ipaddress.ip_address("224.0.0.1"))
    ('non-public', 'multicast')
    """
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_v4(ip)) is not None:
        return why_refused(inner)
    for kind in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:  # shared address space, documentation, benchmarking, ...
        return "non-public"
    return None


def _refuse(what: str, kind: str) -> TargetRefused:
    return TargetRefused(f"{what} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} address; {_HINT}")


def literal_ip(host: str) -> IP | None:
    """The address a host spelled as a number means, in any form a resolver accepts, else None.

    >>> literal_ip("0x7f.1"), literal_ip("[::1]"), literal_ip("example.com")
    (IPv4Address('127.0.0.1'), IPv6Address('::1'), None)
    """
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    try:  # inet_aton takes what getaddrinfo takes: decimal, octal, hex and short dotted forms
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except OSError:
        return None


def split(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL; raises :class:`TargetRefused` if there is no host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an http:// or https:// URL with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the port must be a number from 1 to 65535") from None
    return parts.scheme, parts.hostname, port


def check_ip(ip: IP, shown: str, allow: Allowlist) -> None:
    if allow.allows_ip(ip):
        return
    if (kind := why_refused(ip)) is not None:
        raise _refuse(shown, kind)


def check_url(url: str, allow: Iterable[str] | Allowlist) -> None:
    """Refuse a URL whose host is a non-public address or an internal name (no DNS lookup)."""
    allow = parse_allowlist(allow)
    _, host, _ = split(url)
    if allow.allows_name(host):
        return
    ip = literal_ip(host)
    if ip is not None:
        check_ip(ip, host, allow)
        return
    name = host.rstrip(".").lower()
    if name in INTERNAL_NAMES or name.endswith((".localhost", ".internal", ".local")):
        raise TargetRefused(f"{host} is an internal host name; {_HINT}")


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect for one delivery: the checked address, and the name the URL gave."""

    url: str  # the original URL with the host replaced by the checked address
    host_header: str  # Host: as the URL gave it
    sni_hostname: str | None  # https: the name to present and verify the certificate for


def resolve(url: str, allow: Iterable[str] | Allowlist, resolver: Callable[..., Any] | None = None) -> Target:
    """Resolve the URL's host now, check every address, and name the one to connect to.

    Every address the name resolves to must pass (a name that also resolves inside is refused
    whole); the first one is used. ``resolver`` replaces ``socket.getaddrinfo`` in tests.
    """
    allow = parse_allowlist(allow)
    check_url(url, allow)
    scheme, host, port = split(url)
    parts = urlsplit(url)
    lookup = resolver or socket.getaddrinfo
    try:
        infos: Sequence[tuple[Any, ...]] = lookup(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"{host} resolves to no address")
    if not allow.allows_name(host):
        for ip in addresses:
            check_ip(ip, f"{host} ({ip})" if literal_ip(host) is None else host, allow)
    ip = addresses[0]
    shown = f"[{ip}]" if ip.version == 6 else str(ip)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    target_url = parts._replace(netloc=f"{userinfo}{shown}:{port}").geturl()
    host_header = parts.netloc.rsplit("@", 1)[-1]  # host[:port] exactly as the URL wrote it
    return Target(target_url, host_header, host if scheme == "https" and literal_ip(host) is None else None)
