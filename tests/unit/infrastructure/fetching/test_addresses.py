import ipaddress

import pytest

from infrastructure.fetching import addresses

pytestmark = pytest.mark.unit

PUBLIC = [
    "93.184.215.14",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2002:5db8:d70e::1",  # 6to4 of a public address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]
PRIVATE = [
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
]
FORBIDDEN = [
    "169.254.169.254",  # AWS, GCP, Azure metadata
    "169.254.0.1",
    "fd00:ec2::254",  # AWS IPv6 metadata, inside fc00::/7
    "100.100.100.200",  # Alibaba metadata, inside 100.64/10
    "fe80::1",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::ffff:169.254.169.254",
    "::ffff:0.0.0.0",
    "::7f00:1",  # IPv4-compatible 127.0.0.1 (deprecated form)
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:0a00:0001::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str, allow_private: bool) -> None:
    assert addresses.allowed(ipaddress.ip_address(address), allow_private=allow_private)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_and_loopback_addresses_need_the_flag(address: str) -> None:
    ip = ipaddress.ip_address(address)

    assert not addresses.allowed(ip, allow_private=False)
    assert addresses.allowed(ip, allow_private=True)


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("address", FORBIDDEN)
def test_link_local_metadata_and_reserved_addresses_are_always_refused(
    address: str, allow_private: bool
) -> None:
    assert not addresses.allowed(ipaddress.ip_address(address), allow_private=allow_private)


@pytest.mark.parametrize(
    "host", ["metadata.google.internal", "METADATA.google.internal.", "metadata"]
)
def test_metadata_host_names_are_refused_by_name(host: str) -> None:
    assert addresses.host_forbidden(host)


def test_ordinary_host_names_are_not_refused_by_name() -> None:
    assert not addresses.host_forbidden("metadata.example.com")
