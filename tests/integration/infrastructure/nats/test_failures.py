"""The relay under failure: lost acks, retried publishes, NATS going away."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.api import PubAck

from infrastructure.embedded.nats import EmbeddedNats
from infrastructure.nats.messages import Message
from infrastructure.nats.pipeline import Publish, inbox_publisher
from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.nats.helpers import (
    log_positions,
    read_stream,
    relaying,
    write_events,
)
from tests.integration.infrastructure.postgres.helpers import new_caller
from tests.support import nats as nats_support
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def caught_up(trawl: Trawl) -> bool:
    status = trawl.relay_status()
    return status is not None and status.lag_events == 0


def test_a_publish_retried_after_a_lost_ack_is_deduplicated(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    retried: list[asyncio.Future[PubAck]] = []

    def losing_acks(client: Client) -> Publish:
        real, count = inbox_publisher(client), itertools.count()

        async def publish(message: Message, expected: int) -> asyncio.Future[PubAck]:
            first = await real(message, expected)
            if next(count) % 97 != 5:
                return first
            # The first ack is "lost": publish the very same message again.
            again = await real(message, expected)
            retried.append(again)
            return again

        return publish

    write_events(trawl, 1_000)
    relay = relay_for(trawl.store, url, nats_url, stream_spec, RelayOptions(), losing_acks)
    with relaying(relay):
        eventually(lambda: caught_up(trawl), timeout=60, what="the relay to catch up")
    assert len(retried) >= 10
    assert all(future.result().duplicate for future in retried)
    assert [m.position for m in read_stream(nats_url, stream_spec)] == log_positions(trawl)


def test_an_ack_that_never_comes_makes_the_relay_resync_without_duplicates(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    def silent_once(client: Client) -> Publish:
        real, count = inbox_publisher(client), itertools.count()

        async def publish(message: Message, expected: int) -> asyncio.Future[PubAck]:
            future = await real(message, expected)
            return asyncio.Future() if next(count) == 300 else future

        return publish

    write_events(trawl, 500)
    options = RelayOptions(ack_timeout=0.5, idle_timeout=0.1)
    relay = relay_for(trawl.store, url, nats_url, stream_spec, options, silent_once)
    with relaying(relay):
        eventually(lambda: caught_up(trawl), timeout=60, what="the relay to catch up")
    assert relay.resyncs >= 1
    assert [m.position for m in read_stream(nats_url, stream_spec)] == log_positions(trawl)


def test_nats_stopped_and_restarted_commands_keep_working_and_the_relay_catches_up(
    trawl: Trawl, url: str, tmp_path: Path, stream_names: nats_support.StreamNames
) -> None:
    server = EmbeddedNats.start(tmp_path / "private")  # never the shared server
    spec = stream_names.spec()
    options = RelayOptions(ack_timeout=1.0, idle_timeout=0.1, standby_interval=0.2)
    relay = relay_for(trawl.store, url, server.url, spec, options)
    caller = new_caller()
    try:
        with relaying(relay):
            write_events(trawl, 500)
            eventually(lambda: caught_up(trawl), timeout=60, what="the first catch-up")
            server.stop()
            created = [trawl.projects.create(caller, f"while down {i}") for i in range(20)]
            write_events(trawl, 500)
            assert all(result.position > 0 for result in created)
            server = EmbeddedNats.start(tmp_path / "private", port=server.port)
            eventually(lambda: caught_up(trawl), timeout=90, what="the catch-up after restart")
        published: Any = read_stream(server.url, spec)
    finally:
        server.stop()
    assert [m.position for m in published] == log_positions(trawl)
