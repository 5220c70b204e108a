"""SafeFetcher: the Fetcher port over httpx, safe against SSRF and hostile servers.

Per fetch: http(s) only; every hop's host is resolved once and every address
checked (addresses.py), the connection pinned to the checked IP (pinning.py);
redirects followed by hand, at most `max_redirects`, each hop checked again;
one deadline for the whole fetch; the body streamed and cut at `max_bytes`;
only text/html, application/xhtml+xml and text/plain accepted.
"""

from __future__ import annotations

import socket
import ssl
import time

import httpx

from application.ports import FetchError, FetchRequest, FetchResult
from infrastructure.fetching import client, responses
from infrastructure.fetching.resolver import Resolver

USER_AGENT = "TrawlBot/0.1 (+https://example.invalid/trawl)"
ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"


class SafeFetcher:
    """Fetches pages for ingestion; see the module docstring for the rules."""

    def __init__(
        self,
        allow_private: bool = False,
        max_bytes: int = 10_000_000,
        total_timeout: float = 30.0,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        resolver: Resolver = socket.getaddrinfo,
        verify: ssl.SSLContext | str | bool = True,
    ) -> None:
        self._allow_private = allow_private
        self._max_bytes = max_bytes
        self._total_timeout = total_timeout
        self._max_redirects = max_redirects
        self._user_agent = user_agent
        self._resolver = resolver
        self._ssl_context = client.ssl_context_for(verify)

    def fetch(self, request: FetchRequest) -> FetchResult:
        """The page at `request.url` after redirects, or raise FetchError."""
        deadline = time.monotonic() + self._total_timeout
        url = client.parse_url(request.url)
        redirects: list[str] = []
        while True:
            with client.exchange(
                url,
                self._headers(request),
                resolver=self._resolver,
                allow_private=self._allow_private,
                ssl_context=self._ssl_context,
                deadline=deadline,
            ) as response:
                location = response.headers.get("location")
                if response.status_code not in responses.REDIRECTS or not location:
                    return self._result(url, response, request, redirects)
            if len(redirects) >= self._max_redirects:
                raise FetchError("too-many-redirects", str(self._max_redirects))
            redirects.append(str(url))
            url = client.parse_url(_join(url, location))
            if request.may_follow is not None and not request.may_follow(str(url)):
                raise FetchError("robots-disallowed", str(url))

    def _headers(self, request: FetchRequest) -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, "Accept": ACCEPT}
        # Sent on every hop: the validators came from the last final response.
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        return headers

    def _result(
        self, url: httpx.URL, response: httpx.Response, request: FetchRequest, redirects: list[str]
    ) -> FetchResult:
        status = response.status_code
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        content_type = responses.media_type(response.headers.get("content-type"))
        not_modified = status == 304
        if not_modified:
            etag, last_modified = etag or request.etag, last_modified or request.last_modified
            body = b""
        elif 200 <= status < 300:
            content_type = responses.check_media_type(response.headers.get("content-type"))
            body = self._read_capped(response)
        else:
            raise responses.status_error(status, response.headers.get("retry-after"))
        return FetchResult(
            status=status,
            final_url=str(url),
            content_type=content_type,
            body=body,
            etag=etag,
            last_modified=last_modified,
            not_modified=not_modified,
            redirects=redirects,
        )

    def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise FetchError("too-large", f"Content-Length {declared}")
        body = bytearray()
        # Decoded bytes are counted, so a compressed bomb is cut as early as a plain body.
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                raise FetchError("too-large", f"over {self._max_bytes} bytes")
        return bytes(body)


def _join(url: httpx.URL, location: str) -> str:
    try:
        return str(url.join(location))
    except (httpx.InvalidURL, ValueError) as error:
        raise FetchError("bad-redirect", "unparsable Location") from error
