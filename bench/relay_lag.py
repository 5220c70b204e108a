"""Section `relay`, part two: lag at a steady 1,000 events/s.

With the relay caught up, a writer commits 10 events every 10 ms for D
seconds; an ordered JetStream consumer takes, for each event, the time from
its timestamp to its delivery from the stream. Target: p99 < 1 s. Baseline:
the writer's own commit p99.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import nats
from nats.js.api import DeliverPolicy

from bench.report import Figure
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.nats import messages
from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl

TARGET_LAG_P99_S = 1.0


def lag(trawl: Trawl, db_url: str, nats_url: str, seconds: float, command: str) -> Figure:
    from bench.relay import delete_streams, new_spec

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
    asyncio.run(delete_streams(nats_url, spec.name))
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
