"""Reading the stream back from a log position (what tail and consumers start from)."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest
from eventsourcing.persistence import IntegrityError

from domain.projects.aggregate import Project
from infrastructure.nats.reading import start_sequence
from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.nats.helpers import (
    CTX,
    read_stream,
    relaying,
    write_events,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def burn_a_position(trawl: Trawl) -> int:
    """A rolled-back insert: its position is a hole in the log forever."""
    project_id = uuid.uuid4()
    trawl.store.save(Project.create(CTX, project_id, uuid.uuid4(), "first"))
    with pytest.raises(IntegrityError):
        trawl.store.save(Project.create(CTX, project_id, uuid.uuid4(), "twin"))
    return trawl.store.head() + 1


def sequence_at(url: str, spec: StreamSpec, position: int) -> int | None:
    async def find() -> int | None:
        client = await nats.connect(url)
        try:
            return await start_sequence(client.jetstream(), spec, position)
        finally:
            await client.close()

    return asyncio.run(find())


def test_the_first_message_at_or_after_a_position_is_found(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    write_events(trawl, 75)
    hole = burn_a_position(trawl)
    write_events(trawl, 75)
    relay = relay_for(trawl.store, url, nats_url, stream_spec, RelayOptions(idle_timeout=0.1))
    with relaying(relay):
        eventually(lambda: relay.published >= 300, what="300 events relayed")
    published = read_stream(nats_url, stream_spec)
    for index in (0, 1, 137, 299):
        wanted = published[index]
        assert sequence_at(nats_url, stream_spec, wanted.position) == wanted.seq
    after_hole = next(m for m in published if m.position > hole)
    assert hole not in [m.position for m in published]
    assert sequence_at(nats_url, stream_spec, hole) == after_hole.seq
    assert sequence_at(nats_url, stream_spec, 0) == published[0].seq
    assert sequence_at(nats_url, stream_spec, published[-1].position + 1) is None
