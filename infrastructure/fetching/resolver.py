"""Resolve a host once and check every address it resolves to.

The fetcher connects to the address this returns, never to the name again, so
a DNS answer that changes between the check and the connection (rebinding)
cannot steer the request to a refused address.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

from application.ports import FetchError
from infrastructure.fetching import addresses

logger = logging.getLogger(__name__)

# socket.getaddrinfo's shape, called as resolver(host, port): entries whose
# item 4 is a sockaddr starting with the IP text. Tests pass fakes.
Resolver = Callable[[str, int], Iterable[tuple[Any, ...]]]


def resolve_checked(
    host: str, port: int, *, resolver: Resolver, allow_private: bool
) -> addresses.IPAddress:
    """The address to connect to for `host`, when it and every sibling pass the policy.

    Raises FetchError `address-refused` or `dns-failed`.
    """
    if addresses.host_forbidden(host):
        raise _refused(host)
    found = _literal(host)
    candidates = [found] if found is not None else _lookup(host, port, resolver)
    if not candidates:
        raise FetchError("dns-failed", f"no address for {host}")
    # One refused address refuses the host: a round-robin answer must not be a lottery.
    if not all(addresses.allowed(ip, allow_private=allow_private) for ip in candidates):
        raise _refused(host)
    return candidates[0]


def _literal(host: str) -> addresses.IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _lookup(host: str, port: int, resolver: Resolver) -> list[addresses.IPAddress]:
    try:
        entries = list(resolver(host, port))
    except socket.gaierror as error:
        transient = error.errno == socket.EAI_AGAIN
        raise FetchError("dns-failed", host, transient=transient) from error
    except (OSError, UnicodeError) as error:
        raise FetchError("dns-failed", host) from error
    found: list[addresses.IPAddress] = []
    for entry in entries:
        text = str(entry[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        ip = ipaddress.ip_address(text)
        if ip not in found:
            found.append(ip)
    return found


def _refused(host: str) -> FetchError:
    logger.info("fetch refused: %s resolves to a refused address", host)
    return FetchError("address-refused", host)
