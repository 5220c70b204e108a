"""Fixtures: the test site over HTTP and HTTPS on 127.0.0.1, and a fake resolver."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from tests.integration.infrastructure.fetching import certs, site
from tests.integration.infrastructure.fetching.fakes import FakeResolver
from tests.support import corpus


@pytest.fixture(scope="session")
def http_site() -> Iterator[site.Site]:
    corpus.corpus_file("html/readability/001.html")
    with site.serving() as served:
        yield served


@pytest.fixture
def web(http_site: site.Site) -> site.Site:
    http_site.requests.clear()
    return http_site


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory) -> certs.Certs:
    return certs.issue(tmp_path_factory.mktemp("tls"), "site.test")


@pytest.fixture(scope="session")
def sni_names() -> list[str | None]:
    return []


@pytest.fixture(scope="session")
def https_site(tls_certs: certs.Certs, sni_names: list[str | None]) -> Iterator[site.Site]:
    corpus.corpus_file("html/readability/001.html")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_certs.cert, tls_certs.key)
    context.sni_callback = lambda _sock, name, _ctx: sni_names.append(name)
    with site.serving(tls=context) as served:
        yield served


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver({"site.test": ["127.0.0.1"]})
