"""Trawl's NATS connections against a real server: what their callbacks log."""

from __future__ import annotations

import asyncio
import logging

import pytest

from infrastructure.nats import connection

pytestmark = pytest.mark.integration


def test_closing_a_connection_is_no_warning(
    nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A shutdown closes the client, which disconnects it: logged as such, not
    as a lost server being reconnected to."""

    async def open_and_close() -> None:
        client = await connection.connect(nats_url, "trawl-test")
        assert client.is_connected
        await client.close()

    with caplog.at_level(logging.INFO, logger=connection.__name__):
        asyncio.run(open_and_close())

    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.INFO, "trawl-test: disconnected from NATS (closing)") in messages
    assert not [m for level, m in messages if level >= logging.WARNING]


def test_a_connection_the_server_drops_is_a_warning(
    nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection dropping under the client (its socket closed, as when the
    server goes away) is what the warning is for."""

    async def dropped() -> None:
        client = await connection.connect(nats_url, "trawl-test")
        transport = client._transport  # the socket under the client
        assert transport is not None
        transport.close()
        for _ in range(500):  # the callback runs on the client's own tasks
            if WARNED in warnings():
                break
            await asyncio.sleep(0.01)
        await client.close()

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    with caplog.at_level(logging.INFO, logger=connection.__name__):
        asyncio.run(dropped())

    assert WARNED in warnings()


WARNED = "trawl-test: disconnected from NATS; reconnecting"
