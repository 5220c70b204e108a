"""examples/consumer.py: durable, resumable, idempotent, from a position or a time."""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import nats
import pytest

from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.nats.helpers import log_positions, relaying, write_events
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[4] / "examples" / "consumer.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trawl_consumer_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def relayed(trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec) -> list[int]:
    """100 events on the stream; their positions."""
    write_events(trawl, 50)
    relay = relay_for(trawl.store, url, nats_url, stream_spec, RelayOptions(idle_timeout=0.1))
    with relaying(relay):
        eventually(lambda: relay.published >= 100, what="100 events relayed")
    return log_positions(trawl)


def run(example: ModuleType, nats_url: str, spec: StreamSpec, state: Path, *extra: str) -> None:
    args = example.parse(
        [
            *("--url", nats_url, "--stream", spec.name, "--prefix", spec.prefix),
            *("--durable", "example", "--state", str(state), "--idle-seconds", "0.5"),
            "--exit-when-idle",
            *extra,
        ]
    )
    asyncio.run(example.consume(args))


def processed(state: Path) -> list[int]:
    with sqlite3.connect(state) as db:
        return [row[0] for row in db.execute("SELECT position FROM processed ORDER BY position")]


def test_from_a_position_then_resumes_without_processing_twice(
    example: ModuleType, nats_url: str, stream_spec: StreamSpec, relayed: list[int], tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite3"
    run(example, nats_url, stream_spec, state, "--from-position", str(relayed[40]))
    assert processed(state) == relayed[40:]
    run(example, nats_url, stream_spec, state)  # the durable resumes: nothing new
    assert processed(state) == relayed[40:]


def test_redelivered_events_are_recognised(
    example: ModuleType, nats_url: str, stream_spec: StreamSpec, relayed: list[int], tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite3"
    run(example, nats_url, stream_spec, state)
    asyncio.run(_delete_consumer(nats_url, stream_spec.name))  # everything comes again
    run(example, nats_url, stream_spec, state)
    with sqlite3.connect(state) as db:
        [(counted,)] = db.execute("SELECT sum(n) FROM counts").fetchall()
    assert counted == len(relayed) == len(processed(state))


def test_from_a_time_in_the_future_sees_nothing_old(
    example: ModuleType, nats_url: str, stream_spec: StreamSpec, relayed: list[int], tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite3"
    run(example, nats_url, stream_spec, state, "--since", datetime.now(UTC).isoformat())
    assert processed(state) == []


async def _delete_consumer(url: str, stream: str) -> None:
    client = await nats.connect(url)
    try:
        await client.jetstream().delete_consumer(stream, "example")
    finally:
        await client.close()
