"""A small hostile-and-friendly web site on loopback for the fetcher's tests.

Routes: /page (a corpus page), /plain, /hops/<n> (n redirects), /to?u=<url>
(one redirect), /slow-headers, /slow-body, /big (with Content-Length),
/big-unsized, /image, /status/<code>, /etag. The server records each
request's path and headers.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support import corpus

CORPUS_PAGE = corpus.HTML / "readability" / "001.html"
ETAG = '"v1"'


@dataclass
class Site:
    port: int
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


class Handler(BaseHTTPRequestHandler):
    server: SiteServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.server.site.requests.append((self.path, dict(self.headers.items())))
        name, _, arg = url.path.strip("/").partition("/")
        route = getattr(self, f"route_{name.replace('-', '_')}", None)
        if route is None:
            self.answer(404, b"not found")
        else:
            route(arg, parse_qs(url.query))

    def answer(self, status: int, body: bytes, kind: str = "text/html", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_page(self, arg: str, query: dict[str, list[str]]) -> None:
        self.answer(200, CORPUS_PAGE.read_bytes(), "text/html; charset=utf-8")

    def route_plain(self, arg: str, query: dict[str, list[str]]) -> None:
        self.answer(200, b"just text", "text/plain; charset=utf-8")

    def route_hops(self, arg: str, query: dict[str, list[str]]) -> None:
        left = int(arg)
        if left == 0:
            self.answer(200, b"<html><p>arrived</p></html>")
        else:
            self.redirect(f"/hops/{left - 1}")

    def route_to(self, arg: str, query: dict[str, list[str]]) -> None:
        self.redirect(query["u"][0])

    def route_slow_headers(self, arg: str, query: dict[str, list[str]]) -> None:
        # The server side of the test: a slow site is the behaviour under test.
        time.sleep(1.5)
        self.answer(200, b"<html>late</html>")

    def route_slow_body(self, arg: str, query: dict[str, list[str]]) -> None:
        # Each chunk comes well within a per-read timeout; only a total cap stops it.
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        for _ in range(15):
            self.wfile.write(b"<p>drip</p>")
            self.wfile.flush()
            time.sleep(0.1)

    def route_big(self, arg: str, query: dict[str, list[str]]) -> None:
        self.answer(200, b"x" * 5000)

    def route_big_unsized(self, arg: str, query: dict[str, list[str]]) -> None:
        self.send_response(200)  # HTTP/1.0 without Content-Length: the body ends at close
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"x" * 5000)

    def route_image(self, arg: str, query: dict[str, list[str]]) -> None:
        self.answer(200, b"\x89PNG\r\n\x1a\n", "image/png")

    def route_status(self, arg: str, query: dict[str, list[str]]) -> None:
        status = int(arg)
        headers = {"Retry_After": "7"} if status == 429 else {}
        self.answer(status, b"status", **headers)

    def route_etag(self, arg: str, query: dict[str, list[str]]) -> None:
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
        else:
            self.answer(200, b"<html>v1</html>", ETag=ETAG)

    def log_message(self, format: str, *args: object) -> None:
        pass


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    site: Site

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A fetcher that gave up (its time caps on the slow routes) is what
        # those tests expect: no traceback for it. Anything else is printed.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Site]:
    """Serve the site on 127.0.0.1 in a thread, over TLS when given a server context."""
    server = SiteServer(("127.0.0.1", 0), Handler)
    server.site = Site(port=server.server_address[1])
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
