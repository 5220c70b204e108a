"""Helpers of the relay tests: a Trawl with a relay thread, reading a stream back."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.nats import messages
from infrastructure.nats.relay import Relay
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl

CTX = Context.system("test")


@dataclass(frozen=True)
class Published:
    seq: int
    subject: str
    headers: dict[str, str]
    body: bytes

    @property
    def position(self) -> int:
        found = messages.position_of(self.headers)
        assert found is not None, self.headers
        return found


def write_events(trawl: Trawl, projects: int, chunk: int = 500) -> list[int]:
    """`projects` new projects, each created and renamed: 2 events apiece; their positions."""
    positions: list[int] = []
    for start in range(0, projects, chunk):
        batch = [
            Project.create(CTX, uuid.uuid4(), uuid.uuid4(), f"p{start + i}")
            for i in range(min(chunk, projects - start))
        ]
        for project in batch:
            project.rename(CTX, f"renamed {project.id.hex[:8]}")
        positions += [r.notification.id for r in trawl.store.save(*batch)]
    return positions


def log_positions(trawl: Trawl) -> list[int]:
    """Every position of the log, in order (holes and all)."""
    recorder = trawl.store.recorder
    found: list[int] = []
    while batch := recorder.select_notifications(start=(found[-1] + 1 if found else 1), limit=5000):
        found += [n.id for n in batch]
    return found


def read_stream(url: str, spec: StreamSpec) -> list[Published]:
    """Every message the stream holds, in stream order."""

    async def read() -> list[Published]:
        client = await nats.connect(url)
        try:
            js = client.jetstream()
            info = await js.stream_info(spec.name)
            if not info.state.messages:
                return []
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=30
            )
            sub = await js.pull_subscribe(spec.subjects[0], stream=spec.name, config=config)
            found: list[Published] = []
            while len(found) < info.state.messages:
                for msg in await sub.fetch(2000, timeout=5):
                    found.append(
                        Published(
                            msg.metadata.sequence.stream, msg.subject, msg.headers or {}, msg.data
                        )
                    )
            await sub.unsubscribe()
            return found
        finally:
            await client.close()

    return asyncio.run(read())


@contextmanager
def relaying(relay: Relay) -> Iterator[threading.Thread]:
    """The relay running in a thread for the duration of the block."""
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the relay did not stop"
