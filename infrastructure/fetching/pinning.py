"""An httpx transport whose connections go to one checked IP, under a deadline.

How the pinning works: httpx turns the request URL into an httpcore origin
(scheme, host, port) and httpcore's connection calls
`network_backend.connect_tcp(host=<URL host>, port=...)`, then, for https,
`stream.start_tls(ssl_context, server_hostname=<URL host>)`
(httpcore/_sync/connection.py, `_connect`). The URL keeps the host name, so
the Host header, the TLS SNI and the certificate's host name check all use
it; only `connect_tcp` is swapped: `PinnedBackend` ignores the name and
connects to the IP the resolver checked. No second DNS lookup happens.

Every read, write, connect and TLS handshake is given at most the time left
before the fetch's deadline, so a slow-drip server cannot stretch the total.
"""

from __future__ import annotations

import ssl
import time
import typing

import httpcore
import httpx

from infrastructure.fetching.addresses import IPAddress


class PinnedBackend(httpcore.NetworkBackend):
    """Connects `host:port` to the checked `ip:port`; refuses any other host."""

    def __init__(self, host: str, ip: IPAddress, deadline: float) -> None:
        self._host = host
        self._ip = str(ip)
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if host != self._host:  # a transport serves one checked host, nothing else
            raise httpcore.ConnectError(f"host {host!r} was not checked")
        stream = self._inner.connect_tcp(
            self._ip,
            port,
            timeout=_left(self._deadline, timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(self._deadline, timeout, httpcore.ConnectTimeout)
        tls = self._inner.start_tls(ssl_context, server_hostname, left)
        return DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (request/response mapping, errors) over a pinned pool."""

    def __init__(self, backend: PinnedBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # HTTPTransport offers no network_backend parameter; its pool is the
        # one attribute to replace (httpx 0.27/0.28), and this is that pool
        # built the same way, minus proxies and plus our backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            retries=0,
            network_backend=backend,
        )


def _left(deadline: float, timeout: float | None, error: type[httpcore.TimeoutException]) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("total fetch time exceeded")
    return left if timeout is None else min(timeout, left)
