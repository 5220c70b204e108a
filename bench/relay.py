"""Section `relay`: the event stream on NATS JetStream.

- Throughput: the relay publishing a log of N events (default 100k) from
  position 0 (timed from its first publish to its last ack), against raw
  `js.publish_async` of the very same messages
  (pre-encoded, same subjects, headers and bodies) into a stream of the same
  configuration, in the same run. Rounds alternate raw, relay, relay, raw.
  Target: >= 70% of raw.
- Lag at a steady 1,000 events/s: bench/relay_lag.py.

NATS: $TRAWL_BENCH_NATS_URL, else nats://127.0.0.1:4222 when it answers,
else an embedded server in a temporary directory. Streams get random names
and are deleted at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import nats

from bench import relay_lag
from bench.projection import fill_log, trawl_on
from bench.report import Figure
from infrastructure.embedded.nats import answers
from infrastructure.nats import messages
from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec, ensure_stream
from interfaces.bootstrap import Trawl

ENV_URL = "TRAWL_BENCH_NATS_URL"
LOCAL_URL = "nats://127.0.0.1:4222"
TARGET_RATIO = 0.70


@contextmanager
def nats_server() -> Iterator[str]:
    explicit = os.environ.get(ENV_URL)
    if explicit:
        yield explicit
        return
    if answers(LOCAL_URL, timeout=2.0):
        yield LOCAL_URL
        return
    from infrastructure.embedded.nats import EmbeddedNats

    with tempfile.TemporaryDirectory(prefix="trawl-bench-nats-") as tmp:
        server = EmbeddedNats.start(Path(tmp))
        try:
            yield server.url
        finally:
            server.stop()


def new_spec(tag: str) -> StreamSpec:
    name = f"bench_{tag}_{secrets.token_hex(3)}"
    return StreamSpec(name=name.upper(), prefix=name)


async def delete_streams(url: str, *names: str) -> None:
    client = await nats.connect(url)
    try:
        for name in names:
            with suppress(Exception):
                await client.jetstream().delete_stream(name)
    finally:
        await client.close()


def encoded(trawl: Trawl, prefix: str) -> list[messages.Message]:
    """Every event of the log as the relay would publish it (not timed)."""
    found: list[messages.Message] = []
    recorder, mapper = trawl.store.recorder, trawl.store.mapper
    start = 1
    while batch := recorder.select_notifications(start=start, limit=5000):
        found += [messages.encode_stored(mapper, n, n.id, prefix) for n in batch]
        start = batch[-1].id + 1
    return found


async def _raw(url: str, spec: StreamSpec, batch: list[messages.Message]) -> float:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        await ensure_stream(js, spec)
        began = time.perf_counter()
        for message in batch:
            await js.publish_async(message.subject, message.body, headers=message.headers)
        await js.publish_async_completed()
        seconds = time.perf_counter() - began
        assert (await js.stream_info(spec.name)).state.messages == len(batch)
        return seconds
    finally:
        await client.close()


def _relay_round(trawl: Trawl, db_url: str, nats_url: str, spec: StreamSpec, count: int) -> float:
    datastore: Any = trawl.store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as curs:  # a fresh stream starts from 0
        curs.execute("DELETE FROM trawl_view_positions WHERE view = 'relay'")
    relay = relay_for(trawl.store, db_url, nats_url, spec, RelayOptions(idle_timeout=0.05))
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    while relay.published < count:
        time.sleep(0.002)
    finished = time.perf_counter()
    stop.set()
    thread.join()
    # From its first publish, like the raw baseline (connecting and setting up
    # the stream are timed in neither).
    assert relay.pumping_since is not None
    return finished - relay.pumping_since


def throughput(trawl: Trawl, db_url: str, nats_url: str, rounds: int, command: str) -> Figure:
    raw_seconds: list[float] = []
    relay_seconds: list[float] = []
    specs: list[StreamSpec] = []
    count = trawl.store.head()
    order = ["raw", "relay", "relay", "raw"] if rounds > 1 else ["raw", "relay"]
    for kind in order:
        spec = new_spec(kind)
        specs.append(spec)
        if kind == "raw":
            batch = encoded(trawl, spec.prefix)
            raw_seconds.append(asyncio.run(_raw(nats_url, spec, batch)))
        else:
            relay_seconds.append(_relay_round(trawl, db_url, nats_url, spec, count))
        print(f"  relay section: {kind} round done", flush=True)
    asyncio.run(delete_streams(nats_url, *(s.name for s in specs)))
    raw_rate = count * len(raw_seconds) / sum(raw_seconds)
    relay_rate = count * len(relay_seconds) / sum(relay_seconds)
    return Figure(
        section="relay",
        name=f"relay publishing {count:,} events from position 0 (events/s)",
        value=relay_rate,
        baseline_name="raw publish_async of the same messages",
        baseline=raw_rate,
        unit="events/s",
        target=f">= {TARGET_RATIO:.0%} of raw",
        passed=relay_rate >= TARGET_RATIO * raw_rate,
        command=command,
        details={"raw_seconds": raw_seconds, "relay_seconds": relay_seconds},
    )


def run(db_url: str, args: Any, command: str) -> list[Figure]:
    with nats_server() as nats_url, trawl_on(db_url) as trawl:
        written, _ = fill_log(trawl, args.events)
        print(f"  relay section: {written:,} events in the log; NATS at {nats_url}", flush=True)
        figures = [throughput(trawl, db_url, nats_url, args.rounds, command)]
        figures.append(relay_lag.lag(trawl, db_url, nats_url, 5.0 if args.quick else 15.0, command))
    return figures
