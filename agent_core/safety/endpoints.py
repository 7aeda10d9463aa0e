"""Endpoint checks: the web tools and configured endpoints never reach cloud metadata or the private network.

`check_url` resolves the host name and refuses it when any address it resolves to is a cloud metadata
service, link-local, multicast or reserved, or (unless `allow_private`) a private network address.
Loopback stays allowed by default: local model servers are the point (web tools pass
`allow_loopback=False`). IPv4 addresses hidden in IPv6 (::ffff:a.b.c.d, 6to4, NAT64) and odd spellings of
IPv4 (`2852039166`, `0xa9fea9fe`) are unwrapped before the check. `guarded_client` is an httpx client
whose every request, redirect hops included, passes `check_url` first.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "169.254.169.123")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EndpointError(Exception):
    """A URL the agent may not reach; the message says why and what to do."""


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), or the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def classify(address: IPAddress) -> str:
    """ "metadata", "link-local", "reserved", "loopback", "private" or "public"."""
    inner = _unwrap(address)
    if address in METADATA_ADDRESSES or inner in METADATA_ADDRESSES:
        return "metadata"
    if inner.is_loopback or inner.is_unspecified:  # 0.0.0.0 reaches this machine on Linux
        return "loopback"
    if inner.is_link_local:
        return "link-local"
    if inner.is_multicast or inner.is_reserved:
        return "reserved"
    if inner.is_private or (isinstance(inner, ipaddress.IPv4Address) and inner in _CGNAT):
        return "private"
    if not inner.is_global:
        return "reserved"
    return "public"


def _host(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise EndpointError(f"{url!r}: only http and https URLs are allowed")
    if not parts.hostname:
        raise EndpointError(f"{url!r} has no host name")
    return parts.hostname.rstrip(".").lower(), port or (443 if parts.scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _judge(
    url: str, host: str, addresses: list[IPAddress], allow_private: bool, allow_loopback: bool
) -> None:
    if not addresses:
        raise EndpointError(f"{url}: {host} does not resolve to any address")
    for address in addresses:
        kind = classify(address)
        refused = (
            kind in ("metadata", "link-local", "reserved")
            or (kind == "private" and not allow_private)
            or (kind == "loopback" and not allow_loopback)
        )
        if refused:
            shown = host if str(address) == host else f"{host} ({address})"
            hint = "" if kind in ("metadata", "link-local", "reserved") else " unless the user allows it"
            raise EndpointError(
                f"{url} is refused: {shown} is a {kind} address, which the agent may not reach{hint}"
            )


def _addresses(infos: list[Any]) -> list[IPAddress]:
    out: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        out.append(ipaddress.ip_address(text))
    return out


def _precheck(url: str) -> tuple[str, int, IPAddress | None]:
    host, port = _host(url)
    if host in METADATA_HOSTS or host.endswith(".internal") and host.startswith("metadata"):
        raise EndpointError(f"{url} is refused: {host} is a cloud metadata service")
    return host, port, _literal(host)


def check_url(url: str, allow_private: bool = False, *, allow_loopback: bool = True) -> None:
    """Raise EndpointError unless `url` may be fetched (resolves the host name; blocking)."""
    host, port, literal = _precheck(url)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            addresses = _addresses(socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP))
        except (OSError, UnicodeError) as exc:
            raise EndpointError(f"{url}: cannot resolve {host} ({exc})") from None
    _judge(url, host, addresses, allow_private, allow_loopback)


async def acheck_url(url: str, allow_private: bool = False, *, allow_loopback: bool = True) -> None:
    """`check_url` without blocking the event loop."""
    host, port, literal = _precheck(url)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise EndpointError(f"{url}: cannot resolve {host} ({exc})") from None
        addresses = _addresses(list(infos))
    _judge(url, host, addresses, allow_private, allow_loopback)


def request_guard(
    allow_private: bool = False, *, allow_loopback: bool = True
) -> Callable[[httpx.Request], Awaitable[None]]:
    """An httpx `request` event hook checking every request, each redirect hop included."""

    async def hook(request: httpx.Request) -> None:
        await acheck_url(str(request.url), allow_private, allow_loopback=allow_loopback)

    return hook


def guarded_client(
    allow_private: bool = False, *, allow_loopback: bool = False, max_redirects: int = 5, **kwargs: Any
) -> httpx.AsyncClient:
    """An httpx.AsyncClient for web tools: redirects followed, every hop checked (EndpointError on refusal).

    Loopback is refused by default here (a web page must not reach local services); pass
    `allow_loopback=True` for a configured local endpoint.
    """
    hooks = kwargs.pop("event_hooks", {}) or {}
    hooks = {
        **hooks,
        "request": [request_guard(allow_private, allow_loopback=allow_loopback), *hooks.get("request", [])],
    }
    return httpx.AsyncClient(follow_redirects=True, max_redirects=max_redirects, event_hooks=hooks, **kwargs)
