import ssl

import pytest

from application.ports import FetchError, FetchRequest
from infrastructure.fetching import SafeFetcher
from tests.integration.infrastructure.fetching import certs, site
from tests.integration.infrastructure.fetching.fakes import FakeResolver

pytestmark = pytest.mark.integration


def test_https_uses_the_name_for_sni_and_verification_and_the_ip_for_the_connection(
    https_site: site.Site,
    tls_certs: certs.Certs,
    resolver: FakeResolver,
    sni_names: list[str | None],
) -> None:
    sni_names.clear()
    https_site.requests.clear()
    fetch = SafeFetcher(allow_private=True, resolver=resolver, verify=str(tls_certs.ca))

    result = fetch.fetch(FetchRequest(f"https://site.test:{https_site.port}/page"))

    assert (result.status, result.body) == (200, site.CORPUS_PAGE.read_bytes())
    assert sni_names == ["site.test"]
    assert https_site.requests[0][1]["Host"] == f"site.test:{https_site.port}"
    assert resolver.calls == ["site.test"]


def test_an_ssl_context_is_accepted(
    https_site: site.Site, tls_certs: certs.Certs, resolver: FakeResolver
) -> None:
    context = ssl.create_default_context(cafile=tls_certs.ca)
    fetch = SafeFetcher(allow_private=True, resolver=resolver, verify=context)

    assert fetch.fetch(FetchRequest(f"https://site.test:{https_site.port}/plain")).status == 200


def test_a_certificate_for_another_name_is_refused(
    https_site: site.Site, tls_certs: certs.Certs, resolver: FakeResolver
) -> None:
    # Same pinned IP, same server: only the name differs, and the check uses the name.
    resolver.set("other.test", "127.0.0.1")
    fetch = SafeFetcher(allow_private=True, resolver=resolver, verify=str(tls_certs.ca))

    with pytest.raises(FetchError) as caught:
        fetch.fetch(FetchRequest(f"https://other.test:{https_site.port}/page"))

    assert (caught.value.reason, caught.value.transient) == ("tls-failed", False)


def test_an_untrusted_certificate_is_refused(https_site: site.Site, resolver: FakeResolver) -> None:
    fetch = SafeFetcher(allow_private=True, resolver=resolver)

    with pytest.raises(FetchError) as caught:
        fetch.fetch(FetchRequest(f"https://site.test:{https_site.port}/page"))

    assert caught.value.reason == "tls-failed"
