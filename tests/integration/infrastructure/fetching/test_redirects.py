import socket
from collections.abc import Callable
from typing import Any

import pytest

from application.ports import FetchError, FetchRequest
from infrastructure.fetching import SafeFetcher
from tests.integration.infrastructure.fetching import site
from tests.integration.infrastructure.fetching.fakes import FakeResolver

pytestmark = pytest.mark.integration


def fail(fetch: SafeFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch.fetch(FetchRequest(url))
    return caught.value


def test_a_chain_of_three_redirects_is_followed(web: site.Site, resolver: FakeResolver) -> None:
    base = f"http://site.test:{web.port}"

    result = SafeFetcher(allow_private=True, resolver=resolver).fetch(
        FetchRequest(f"{base}/hops/3")
    )

    assert result.final_url == f"{base}/hops/0"
    assert result.redirects == [f"{base}/hops/3", f"{base}/hops/2", f"{base}/hops/1"]
    assert result.body == b"<html><p>arrived</p></html>"


def test_six_redirects_are_too_many(web: site.Site, resolver: FakeResolver) -> None:
    fetch = SafeFetcher(allow_private=True, resolver=resolver)

    error = fail(fetch, f"http://site.test:{web.port}/hops/6")

    assert (error.reason, error.transient) == ("too-many-redirects", False)
    assert len(web.requests) == 6


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata.test/",  # a name that resolves to the metadata address
    ],
)
def test_a_redirect_to_metadata_is_refused_even_with_the_flag(
    web: site.Site, resolver: FakeResolver, target: str
) -> None:
    resolver.set("metadata.test", "169.254.169.254")
    fetch = SafeFetcher(allow_private=True, resolver=resolver)

    error = fail(fetch, f"http://site.test:{web.port}/to?u={target}")

    assert (error.reason, error.transient) == ("address-refused", False)
    assert web.paths() == [f"/to?u={target}"]


def test_a_redirect_away_from_http_is_refused(web: site.Site, resolver: FakeResolver) -> None:
    fetch = SafeFetcher(allow_private=True, resolver=resolver)

    error = fail(fetch, f"http://site.test:{web.port}/to?u=file:///etc/passwd")

    assert error.reason == "not-http"


def test_the_connection_goes_to_the_checked_address(
    web: site.Site, resolver: FakeResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first answer passes the check; a rebinding server would answer the
    # metadata address next. The fetch must never ask again, nor let the
    # system resolver see the name (site.test does not exist outside the fake).
    resolver.set("site.test", "127.0.0.1", "169.254.169.254")
    system_lookups: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", recording(socket.getaddrinfo, system_lookups))

    result = SafeFetcher(allow_private=True, resolver=resolver).fetch(
        FetchRequest(f"http://site.test:{web.port}/page")
    )

    assert result.status == 200
    assert resolver.calls == ["site.test"]
    assert "site.test" not in system_lookups


def test_every_hop_is_resolved_and_checked_again(web: site.Site, resolver: FakeResolver) -> None:
    resolver.set("site.test", "127.0.0.1", "169.254.169.254")

    error = fail(
        SafeFetcher(allow_private=True, resolver=resolver), f"http://site.test:{web.port}/hops/1"
    )

    assert error.reason == "address-refused"
    assert resolver.calls == ["site.test", "site.test"]
    assert web.paths() == ["/hops/1"]


def recording(real: Callable[..., Any], seen: list[str]) -> Callable[..., Any]:
    def lookup(host: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(host)
        return real(host, *args, **kwargs)

    return lookup


def test_a_redirect_to_a_page_robots_disallows_is_not_followed(
    web: site.Site, resolver: FakeResolver
) -> None:
    base = f"http://site.test:{web.port}"
    asked: list[str] = []

    def may_follow(url: str) -> bool:
        asked.append(url)
        return not url.endswith("/hops/1")

    with pytest.raises(FetchError) as caught:
        SafeFetcher(allow_private=True, resolver=resolver).fetch(
            FetchRequest(f"{base}/hops/3", may_follow=may_follow)
        )

    assert caught.value.reason == "robots-disallowed"
    assert asked == [f"{base}/hops/2", f"{base}/hops/1"]
    assert web.paths() == ["/hops/3", "/hops/2"]  # the disallowed page was never asked for
