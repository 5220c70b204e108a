"""Section `relay`: the event stream on NATS JetStream.

- Throughput: the relay publishing a log of N events (default 100k) from
  position 0, against raw `js.publish_async` of the very same messages
  (pre-encoded, same subjects, headers and bodies) into a stream of the same
  configuration, in the same run. Rounds alternate raw, relay, relay, raw.
  Target: >= 70% of raw.
- Lag: with the relay caught up, a writer commits 10 events every 10 ms
  (1,000 events/s) for D seconds; an ordered JetStream consumer measures,
  for each event, the time from the event's timestamp to its delivery from
  the stream. Target: p99 < 1 s. Baseline: the writer's own commit p99.

NATS: $TRAWL_BENCH_NATS_URL, else nats://127.0.0.1:4222 when it answers,
else an embedded server in a temporary directory. Streams get random names
and are deleted at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import nats

from bench.projection import fill_log, trawl_on
from bench.report import Figure
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.embedded.nats import answers
from infrastructure.nats import messages
from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec, ensure_stream
from interfaces.bootstrap import Trawl

ENV_URL = "TRAWL_BENCH_NATS_URL"
LOCAL_URL = "nats://127.0.0.1:4222"
TARGET_RATIO = 0.70
TARGET_LAG_P99_S = 1.0


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


async def _delete(url: str, *names: str) -> None:
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
    began = time.perf_counter()
    thread.start()
    while relay.published < count:
        time.sleep(0.002)
    seconds = time.perf_counter() - began
    stop.set()
    thread.join()
    return seconds


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
    asyncio.run(_delete(nats_url, *(s.name for s in specs)))
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


def lag(trawl: Trawl, db_url: str, nats_url: str, seconds: float, command: str) -> Figure:
    spec = new_spec("lag")
    relay = relay_for(trawl.store, db_url, nats_url, spec, RelayOptions())
    stop = threading.Event()
    relaying = threading.Thread(target=relay.run, args=(stop,))
    with trawl.store.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute("DELETE FROM trawl_view_positions WHERE view = 'relay'")
    relaying.start()
    while not relay.active.is_set() or relay.published < trawl.store.head():
        time.sleep(0.01)
    lags: list[float] = []
    ready, done = threading.Event(), threading.Event()
    receiving = threading.Thread(
        target=lambda: asyncio.run(_receive(nats_url, spec, lags, ready, done))
    )
    receiving.start()
    ready.wait(10)
    commits = _write_steadily(trawl, seconds)
    expected = len(commits) * 10
    deadline = time.monotonic() + 30
    while len(lags) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    receiving.join()
    stop.set()
    relaying.join()
    asyncio.run(_delete(nats_url, spec.name))
    p99 = statistics.quantiles(lags, n=100)[98] if len(lags) >= 100 else float("inf")
    commit_p99 = statistics.quantiles(commits, n=100)[98]
    return Figure(
        section="relay",
        name=f"lag p99 at 1,000 events/s for {seconds:.0f} s (commit -> delivered from the stream)",
        value=p99 * 1000,
        baseline_name="p99 of the commit itself",
        baseline=commit_p99 * 1000,
        unit="ms",
        target=f"p99 < {TARGET_LAG_P99_S * 1000:.0f} ms",
        passed=p99 < TARGET_LAG_P99_S and len(lags) == expected,
        command=command,
        details={
            "events": expected,
            "received": len(lags),
            "p50_ms": round(statistics.median(lags) * 1000, 1) if lags else None,
            "max_ms": round(max(lags) * 1000, 1) if lags else None,
        },
    )


def _write_steadily(trawl: Trawl, seconds: float) -> list[float]:
    """10 new projects (10 events) every 10 ms on an absolute schedule; commit times."""
    ctx = Context.system("bench")
    commits: list[float] = []
    start = time.perf_counter()
    for tick in range(int(seconds * 100)):
        delay = start + tick * 0.01 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        batch = [
            Project.create(ctx, uuid.uuid4(), uuid.uuid4(), f"lag {tick}.{i}") for i in range(10)
        ]
        began = time.perf_counter()
        trawl.store.save(*batch)
        commits.append(time.perf_counter() - began)
    return commits


async def _receive(
    url: str, spec: StreamSpec, lags: list[float], ready: threading.Event, done: threading.Event
) -> None:
    client = await nats.connect(url)

    async def on_message(msg: Any) -> None:
        occurred = datetime.fromisoformat(msg.headers[messages.OCCURRED_AT])
        lags.append(time.time() - occurred.timestamp())

    try:
        js = client.jetstream()
        from nats.js.api import DeliverPolicy

        await js.subscribe(
            spec.subjects[0],
            stream=spec.name,
            cb=on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.05)
    finally:
        await client.close()


def run(db_url: str, args: Any, command: str) -> list[Figure]:
    with nats_server() as nats_url, trawl_on(db_url) as trawl:
        written, _ = fill_log(trawl, args.events)
        print(f"  relay section: {written:,} events in the log; NATS at {nats_url}", flush=True)
        figures = [throughput(trawl, db_url, nats_url, args.rounds, command)]
        figures.append(lag(trawl, db_url, nats_url, 5.0 if args.quick else 15.0, command))
    return figures
