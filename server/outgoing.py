"""Which URLs the server may call for a user (webhooks, HTTP exports): public addresses only,
unless allowed by setting.

A URL a user registers is fetched from inside the network: unguarded, it could reach the cloud
metadata service (169.254.169.254), an admin port on localhost or any internal host (SSRF).
Every address the host resolves to must be public: not private, loopback, link-local,
multicast, reserved, unspecified or shared (100.64/10). Exceptions come from the setting
`OUTGOING_ALLOW`: host names and networks, comma-separated (`hooks.internal,10.1.0.0/16`).
Local development (not `PRODUCTION`) also allows loopback, so a receiver on the developer's
machine works; production refuses it unless listed.

Checked when a URL is registered (a clear error then) and again before each request: a name
may resolve elsewhere by then (DNS rebinding). Redirects are not followed by the callers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from server.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: internal too


class RefusedUrl(ValueError):
    """The URL may not be called (its message says why)."""


@dataclass(frozen=True, slots=True)
class OutgoingPolicy:
    hosts: frozenset[str] = frozenset()  # lower-case names allowed whatever they resolve to
    networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> OutgoingPolicy:
        """Raises ValueError for an entry that is neither a host name nor a network."""
        hosts: set[str] = set()
        networks: list[Network] = [] if settings.production else list(LOOPBACK)
        for raw in settings.outgoing_allow.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, address: Address) -> bool:
        return any(address in network for network in self.networks) or _public(address)


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _public(address.ipv4_mapped)
    internal = (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in SHARED)
    )  # fmt: skip
    return not internal


def url_host(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL. Raises RefusedUrl for anything else."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        raise RefusedUrl("the port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedUrl("an http:// or https:// URL with a host")
    return parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def check_addresses(host: str, addresses: list[Address], policy: OutgoingPolicy) -> None:
    """Raises RefusedUrl unless every address is allowed (or the host is listed)."""
    if host in policy.hosts:
        return
    if not addresses:
        raise RefusedUrl(f"{host} does not resolve to an address")
    refused = sorted({str(a) for a in addresses if not policy.allows(a)})
    if refused:
        raise RefusedUrl(
            f"{host} resolves to {', '.join(refused)}, a private, loopback or link-local "
            "address; list it in OUTGOING_ALLOW to allow it"
        )


async def check_outgoing(url: str, policy: OutgoingPolicy, *, unresolved_ok: bool = False) -> str:
    """The URL, when the server may call it. Raises RefusedUrl saying why not. With
    `unresolved_ok` (when a URL is saved), a name that does not resolve yet passes: it reaches
    nothing now, and every request checks again."""
    host, port = url_host(url)
    literal = _literal(host)
    if literal is not None:
        check_addresses(host, [literal], policy)
        return url.strip()
    if host in policy.hosts:
        return url.strip()
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        if unresolved_ok:
            return url.strip()
        raise RefusedUrl(f"{host} does not resolve to an address") from None
    check_addresses(host, [_address(info) for info in found], policy)
    return url.strip()


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _address(info: tuple[Any, ...]) -> Address:
    sockaddr = info[4]
    return ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # drop an IPv6 scope
