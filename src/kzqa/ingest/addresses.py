"""Which network addresses kzqa may download from: public ones only.

A document named by address (``kzqa add URL``, the library's downloads) must not let a page
reach inside the network kzqa runs in: a loopback service, a private or link-local address
(cloud metadata at 169.254.169.254), multicast or reserved ranges, in IPv4 or IPv6, mapped
forms included (``::ffff:169.254.169.254``). The check is made on the address actually
connected to, for the first request and every redirect alike: ``GuardedBackend`` resolves
the host name itself, checks each address, and connects to the one it checked, so a name
that resolves to a public address when checked and a private one when connected (DNS
rebinding) cannot slip through.

An intranet mirror or a test server on loopback is allowed only when named:
``$KZQA_FETCH_ALLOW`` lists ``HOST:PORT`` pairs (``127.0.0.1:8080``, ``[::1]:8443``), or
``*`` for every local address. Off by default.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

ALLOW_ENV = "KZQA_FETCH_ALLOW"


class RefusedAddress(httpcore.ConnectError):
    """A connection kzqa refuses to make (a non-public address): one line saying why."""


def is_public(address: str) -> bool:
    """Whether ``address`` (an IPv4 or IPv6 address) is a public, unicast one: not loopback,
    private, shared (100.64/10), link-local, multicast, reserved or unspecified, nor an
    IPv4 address of those kinds mapped into IPv6 (``::ffff:…``) or carried by 6to4/NAT64."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(str(inner))
    return ip.is_global and not ip.is_multicast


def allowed_locals() -> frozenset[str]:
    """The ``HOST:PORT`` pairs (or ``*``) named in ``$KZQA_FETCH_ALLOW``."""
    return frozenset(p.strip() for p in os.environ.get(ALLOW_ENV, "").split(",") if p.strip())


def check(host: str, port: int, address: str) -> None:
    """Raise ``RefusedAddress`` unless ``address`` (what ``host`` resolved to) is public, or
    allowed by name."""
    if is_public(address):
        return
    allowed = allowed_locals()
    shown = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    if "*" in allowed or shown in allowed or f"{host}:{port}" in allowed:
        return
    raise RefusedAddress(f"{host} is {address}, not a public address: kzqa downloads only from the "
                         f"public internet (name it in {ALLOW_ENV}={shown} to allow it)")


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses ``check`` allows: it resolves
    the host, checks every address it resolved to, and connects to a checked one."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise httpcore.ConnectError(f"{host}: cannot resolve ({e})") from e
        for *_, sockaddr in found:
            check(host, port, str(sockaddr[0]))  # every address the name has: none may be inside
        last: Exception | None = None
        for *_, sockaddr in found:
            try:
                return super().connect_tcp(str(sockaddr[0]), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as e:
                last = e
        raise last or httpcore.ConnectError(f"{host}: no address to connect to")


def guarded_transport() -> Any:
    """An httpx transport whose every connection (redirects included) goes through
    ``GuardedBackend``."""
    import httpx

    transport = httpx.HTTPTransport()
    transport._pool = httpcore.ConnectionPool(  # noqa: SLF001 - httpx builds its pool with no backend option
        ssl_context=httpx.create_ssl_context(), network_backend=GuardedBackend())
    return transport


__all__ = ["ALLOW_ENV", "GuardedBackend", "RefusedAddress", "check", "guarded_transport", "is_public"]
