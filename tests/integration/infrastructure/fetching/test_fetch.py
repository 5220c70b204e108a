import pytest

from application.ports import FetchError, FetchRequest
from infrastructure.fetching import SafeFetcher
from tests.integration.infrastructure.fetching import site
from tests.integration.infrastructure.fetching.fakes import FakeResolver

pytestmark = pytest.mark.integration


def fetcher(resolver: FakeResolver, **options: object) -> SafeFetcher:
    options.setdefault("allow_private", True)
    return SafeFetcher(resolver=resolver, **options)  # type: ignore[arg-type]


def fail(fetch: SafeFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch.fetch(FetchRequest(url))
    return caught.value


def test_a_corpus_page_arrives_whole(web: site.Site, resolver: FakeResolver) -> None:
    url = f"http://site.test:{web.port}/page"

    result = fetcher(resolver).fetch(FetchRequest(url))

    assert (result.status, result.content_type, result.final_url) == (200, "text/html", url)
    assert result.body == site.CORPUS_PAGE.read_bytes()
    assert (result.not_modified, result.redirects) == (False, [])
    assert web.requests[0][1]["Host"] == f"site.test:{web.port}"
    assert web.requests[0][1]["User-Agent"].startswith("TrawlBot/")


def test_text_plain_is_accepted_without_its_charset(web: site.Site, resolver: FakeResolver) -> None:
    result = fetcher(resolver).fetch(FetchRequest(f"http://site.test:{web.port}/plain"))

    assert (result.content_type, result.body) == ("text/plain", b"just text")


def test_credentials_in_the_url_are_never_sent(web: site.Site, resolver: FakeResolver) -> None:
    result = fetcher(resolver).fetch(FetchRequest(f"http://me:secret@site.test:{web.port}/page"))

    assert result.final_url == f"http://site.test:{web.port}/page"
    assert "Authorization" not in web.requests[0][1]


def test_loopback_is_refused_without_the_flag(web: site.Site) -> None:
    error = fail(SafeFetcher(), f"http://127.0.0.1:{web.port}/page")

    assert (error.reason, error.transient) == ("address-refused", False)
    assert web.requests == []


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_name_resolving_to_loopback_needs_the_flag(
    web: site.Site, resolver: FakeResolver, allow_private: bool
) -> None:
    fetch = fetcher(resolver, allow_private=allow_private)
    url = f"http://site.test:{web.port}/page"

    if allow_private:
        assert fetch.fetch(FetchRequest(url)).status == 200
    else:
        assert fail(fetch, url).reason == "address-refused"
        assert web.requests == []


def test_an_unknown_name_fails_dns(resolver: FakeResolver) -> None:
    error = fail(fetcher(resolver), "http://nowhere.test/")

    assert (error.reason, error.transient) == ("dns-failed", False)


def test_a_closed_port_is_a_transient_connect_failure(resolver: FakeResolver) -> None:
    port = site.free_port()

    error = fail(fetcher(resolver), f"http://site.test:{port}/")

    assert (error.reason, error.transient) == ("connect-failed", True)


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body"])
def test_the_total_time_is_capped(web: site.Site, resolver: FakeResolver, path: str) -> None:
    error = fail(fetcher(resolver, total_timeout=0.5), f"http://site.test:{web.port}{path}")

    assert (error.reason, error.transient) == ("timeout", True)


@pytest.mark.parametrize("path", ["/big", "/big-unsized"])
def test_a_body_over_the_cap_is_too_large(
    web: site.Site, resolver: FakeResolver, path: str
) -> None:
    error = fail(fetcher(resolver, max_bytes=1000), f"http://site.test:{web.port}{path}")

    assert (error.reason, error.transient) == ("too-large", False)


def test_a_body_at_the_cap_is_kept(web: site.Site, resolver: FakeResolver) -> None:
    result = fetcher(resolver, max_bytes=5000).fetch(
        FetchRequest(f"http://site.test:{web.port}/big")
    )

    assert len(result.body) == 5000


def test_an_image_is_refused(web: site.Site, resolver: FakeResolver) -> None:
    error = fail(fetcher(resolver), f"http://site.test:{web.port}/image")

    assert (error.reason, error.transient) == ("content-type", False)


@pytest.mark.parametrize(
    ("status", "reason", "transient", "retry_after"),
    [
        (429, "http-4xx", True, 7.0),
        (404, "http-4xx", False, None),
        (410, "http-4xx", False, None),
        (500, "http-5xx", True, None),
        (503, "http-5xx", True, None),
    ],
)
def test_error_statuses_are_classified(
    web: site.Site,
    resolver: FakeResolver,
    status: int,
    reason: str,
    transient: bool,
    retry_after: float | None,
) -> None:
    error = fail(fetcher(resolver), f"http://site.test:{web.port}/status/{status}")

    assert (error.reason, error.transient, error.retry_after) == (reason, transient, retry_after)


def test_a_matching_etag_gives_not_modified(web: site.Site, resolver: FakeResolver) -> None:
    url = f"http://site.test:{web.port}/etag"
    first = fetcher(resolver).fetch(FetchRequest(url))

    again = fetcher(resolver).fetch(FetchRequest(url, etag=first.etag))

    assert (first.status, first.etag, first.not_modified) == (200, site.ETAG, False)
    assert (again.status, again.body, again.not_modified, again.etag) == (304, b"", True, site.ETAG)
    assert web.requests[1][1]["If-None-Match"] == site.ETAG


def test_if_modified_since_is_sent(web: site.Site, resolver: FakeResolver) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"

    fetcher(resolver).fetch(FetchRequest(f"http://site.test:{web.port}/page", last_modified=date))

    assert web.requests[0][1]["If-Modified-Since"] == date
