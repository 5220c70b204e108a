"""One HTTP exchange to a checked, pinned address, with errors as FetchError."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from application.ports import FetchError
from infrastructure.fetching.pinning import PinnedBackend, PinnedTransport
from infrastructure.fetching.resolver import Resolver, resolve_checked

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_url(text: str) -> httpx.URL:
    """An absolute http(s) URL without credentials or fragment, else FetchError `not-http`.

    Credentials are dropped, never sent: the fetcher has no business with them
    and they must not reach logs or events through `final_url`.
    """
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise FetchError("not-http", "unparsable URL") from error
    if url.scheme not in DEFAULT_PORTS or not url.raw_host:
        raise FetchError("not-http", url.scheme or "no scheme")
    return url.copy_with(userinfo=b"", fragment=None)


@contextmanager
def exchange(
    url: httpx.URL,
    headers: Mapping[str, str],
    *,
    resolver: Resolver,
    allow_private: bool,
    ssl_context: ssl.SSLContext,
    deadline: float,
) -> Iterator[httpx.Response]:
    """GET `url` on a connection pinned to its checked address; the body is left to stream.

    The host is resolved here, once; the connection goes to that IP (see
    pinning.py), the Host header, SNI and certificate check use the name.
    """
    if time.monotonic() >= deadline:
        raise FetchError("timeout", "total fetch time exceeded", transient=True)
    host = url.raw_host.decode("ascii")
    port = url.port or DEFAULT_PORTS[url.scheme]
    ip = resolve_checked(host, port, resolver=resolver, allow_private=allow_private)
    transport = PinnedTransport(PinnedBackend(host, ip, deadline), ssl_context)
    # The deadline also bounds every socket operation (pinning.DeadlineStream).
    timeout = httpx.Timeout(max(deadline - time.monotonic(), 0.001))
    client = httpx.Client(transport=transport, trust_env=False, timeout=timeout)
    with client, _as_fetch_errors(host), client.stream("GET", url, headers=headers) as response:
        logger.debug("fetch %s://%s -> %s", url.scheme, host, response.status_code)
        yield response


def ssl_context_for(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext:
    """The TLS context for `verify`: a context as is, a CA file path, or on/off."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify, trust_env=False)


@contextmanager
def _as_fetch_errors(host: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as error:
        raise FetchError("timeout", host, transient=True) from error
    except httpx.TransportError as error:
        if _tls_failure(error):
            raise FetchError("tls-failed", host) from error
        raise FetchError("connect-failed", host, transient=True) from error


def _tls_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
