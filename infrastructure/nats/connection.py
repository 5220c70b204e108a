"""Connecting to NATS the way Trawl's clients do: reconnect forever, log quietly.

nats-py logs a full traceback on every failed (re)connection attempt, several
times a second while a server is down. Trawl's callbacks log one line per
distinct problem instead, again at most every `QUIET_SECONDS`. The first
connection is bounded by `first_timeout`, so a caller waiting for a server
that is down can still notice that it should stop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from nats.aio.client import Client

log = logging.getLogger(__name__)

QUIET_SECONDS = 30.0


class _QuietLog:
    def __init__(self, name: str, client: Client | None = None) -> None:
        self.name = name
        self.client = client  # its own close (a shutdown) disconnects it too: not worth a warning
        self._last: tuple[str, float] = ("", 0.0)

    async def error(self, error: Exception) -> None:
        text = f"{type(error).__name__}: {error}"
        previous, when = self._last
        if text != previous or time.monotonic() - when > QUIET_SECONDS:
            log.warning("%s: NATS %s", self.name, text)
            self._last = (text, time.monotonic())

    async def disconnected(self) -> None:
        if self.client is not None and (self.client.is_closed or self.client.is_draining):
            log.info("%s: disconnected from NATS (closing)", self.name)
            return
        log.warning("%s: disconnected from NATS; reconnecting", self.name)

    async def reconnected(self) -> None:
        log.info("%s: reconnected to NATS", self.name)
        self._last = ("", 0.0)


def options(name: str, client: Client | None = None) -> dict[str, Any]:
    """nats-py options for `client`: reconnect forever and quickly, log one line per problem."""
    quiet = _QuietLog(name, client)
    return {
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.25,
        "connect_timeout": 2,
        "error_cb": quiet.error,
        "disconnected_cb": quiet.disconnected,
        "reconnected_cb": quiet.reconnected,
    }


async def connect(url: str, name: str, first_timeout: float = 10.0, **extra: Any) -> Client:
    """A connected client (TimeoutError when no server answers within `first_timeout`)."""
    client = Client()
    try:
        await asyncio.wait_for(client.connect(url, **options(name, client), **extra), first_timeout)
    except BaseException:  # timed out or cancelled: no half-made client left reconnecting
        await client.close()
        raise
    return client
