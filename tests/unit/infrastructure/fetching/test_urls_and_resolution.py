import socket

import pytest

from application.ports import FetchError
from infrastructure.fetching import client
from infrastructure.fetching.resolver import Resolver, resolve_checked

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "example.com/a", ""]
)
def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        client.parse_url(url)

    assert caught.value.reason == "not-http"


def test_credentials_and_fragments_are_dropped() -> None:
    url = client.parse_url("https://me:secret@Example.com/a?b=1#top")

    assert str(url) == "https://example.com/a?b=1"


def answers(*ips: str) -> Resolver:
    def resolve(host: str, port: int) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    return resolve


def test_the_first_checked_address_is_used() -> None:
    ip = resolve_checked("a.test", 80, resolver=answers("8.8.8.8", "1.1.1.1"), allow_private=False)

    assert str(ip) == "8.8.8.8"


@pytest.mark.parametrize("allow_private", [False, True])
def test_one_refused_address_refuses_the_host(allow_private: bool) -> None:
    resolver = answers("8.8.8.8", "169.254.169.254")

    with pytest.raises(FetchError) as caught:
        resolve_checked("a.test", 80, resolver=resolver, allow_private=allow_private)

    assert caught.value.reason == "address-refused"


def test_a_zone_id_does_not_hide_a_link_local_address() -> None:
    with pytest.raises(FetchError) as caught:
        resolve_checked("a.test", 80, resolver=answers("fe80::1%eth0"), allow_private=True)

    assert caught.value.reason == "address-refused"


def test_ip_literals_are_checked_without_a_lookup() -> None:
    def no_lookup(host: str, port: int) -> list[tuple[object, ...]]:
        raise AssertionError("looked up")

    ip = resolve_checked("[::1]", 80, resolver=no_lookup, allow_private=True)

    assert str(ip) == "::1"


def test_a_temporary_dns_failure_is_transient() -> None:
    def flaky(host: str, port: int) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(FetchError) as caught:
        resolve_checked("a.test", 80, resolver=flaky, allow_private=False)

    assert (caught.value.reason, caught.value.transient) == ("dns-failed", True)
