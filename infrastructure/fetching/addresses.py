"""The address policy: which IPs and host names the fetcher may connect to.

Three verdicts. FORBIDDEN is refused always: link-local, cloud metadata,
unspecified, multicast, reserved and broadcast addresses, and anything else
that is not globally routable and not listed as private below (documentation
and benchmarking ranges, ...). PRIVATE (RFC 1918, unique-local IPv6, CGNAT
100.64/10, loopback) is refused unless private networks are allowed, which
only tests and closed deployments do. PUBLIC is allowed.

IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are
judged by the address they carry, so `::ffff:169.254.169.254` is metadata.
"""

from __future__ import annotations

import enum
import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Verdict(enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    FORBIDDEN = "forbidden"


METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "metadata.goog"})

PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def verdict(ip: IPAddress) -> Verdict:
    """How the policy judges one address, regardless of the private-network flag."""
    tunnelled = _tunnel_verdict(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if tunnelled is not None:
        return tunnelled
    if ip in METADATA_ADDRESSES:
        return Verdict.FORBIDDEN
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return Verdict.FORBIDDEN
    # Before the reserved test: ::1 lies in the reserved ::/8.
    if ip.is_loopback or any(ip in net for net in PRIVATE_NETWORKS):
        return Verdict.PRIVATE
    if ip.is_reserved:
        return Verdict.FORBIDDEN
    return Verdict.PUBLIC if ip.is_global else Verdict.FORBIDDEN


def allowed(ip: IPAddress, *, allow_private: bool) -> bool:
    """True when the fetcher may connect to `ip`."""
    judged = verdict(ip)
    return judged is Verdict.PUBLIC or (judged is Verdict.PRIVATE and allow_private)


def host_forbidden(host: str) -> bool:
    """True for host names refused before any lookup (cloud metadata services)."""
    return host.lower().rstrip(".") in METADATA_HOSTS


def _tunnel_verdict(ip: ipaddress.IPv6Address) -> Verdict | None:
    """The verdict for an IPv6 address carrying an IPv4 one, None for plain IPv6."""
    if ip.ipv4_mapped is not None:
        return verdict(ip.ipv4_mapped)
    embedded = _embedded_ipv4(ip)
    if any(verdict(v4) is not Verdict.PUBLIC for v4 in embedded):
        # A tunnel to a non-public IPv4 address has no legitimate use here.
        return Verdict.FORBIDDEN
    if ip in NAT64:
        return Verdict.PUBLIC  # DNS64 on IPv6-only networks; judged by its IPv4
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found: list[ipaddress.IPv4Address] = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found
