"""The relay: follows the global log and publishes every event to the stream.

One relay is active per database (a Postgres session advisory lock); others
wait as hot standbys and take over within `standby_interval` when the active
one dies. The active relay:

1. creates or checks the stream (`ensure_stream`);
2. reconciles: the stream's last message names, in its `Trawl-Position`
   header, the last event the stream holds; publishing resumes right after
   it, whatever Postgres recorded and whatever the dedup window (Postgres's
   position only serves an empty stream);
3. pumps: selects the events after the last one sent, publishes them
   pipelined (`Pipeline`), and records in Postgres the highest position
   acked with every event before it; woken by the recorder's NOTIFY, or by
   polling every `idle_timeout` seconds;
4. on any surprise resynchronises (step 2) without reconnecting, and on a
   lost connection starts over from the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from nats.js import JetStreamContext

from application.store import TrawlStore
from infrastructure.nats import connection, messages
from infrastructure.nats.database import Prefetching, RelayDatabase, listen
from infrastructure.nats.pipeline import Pipeline, Publish, Publisher, Resync, inbox_publisher
from infrastructure.nats.resume import resume_point
from infrastructure.nats.stream import IncompatibleStream, StreamSpec, ensure_stream
from infrastructure.postgres.database import conninfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayOptions:
    """Tuning knobs; the defaults are what `trawl serve` and `trawl relay` use."""

    batch_size: int = 1000  # events per select
    max_in_flight: int = 2000  # publishes awaiting their ack
    ack_timeout: float = 5.0  # seconds before a missing ack means: resync
    idle_timeout: float = 1.0  # polling interval when no NOTIFY arrives
    standby_interval: float = 1.0  # how often a standby tries the lock
    record_interval: float = 0.2  # seconds between position writes while busy
    flush_every: int = 100  # messages published between yields to the event loop


class Relay:
    """Publishes the log to the stream; `run(stop)` is a thread's whole life."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        conninfo: str,
        events_table: str,
        channel: str,
        nats_url: str,
        spec: StreamSpec,
        options: RelayOptions | None = None,
        publisher: Publisher = inbox_publisher,
    ) -> None:
        self.mapper = mapper
        self.conninfo = conninfo
        self.events_table = events_table
        self.channel = channel
        self.nats_url = nats_url
        self.spec = spec
        self.options = options or RelayOptions()
        self.publisher = publisher
        self.active = threading.Event()  # set while this relay holds the lock
        self._published_before = 0  # acks counted by finished pipelines
        self._pipeline: Pipeline | None = None
        self.resyncs = 0
        self.error: BaseException | None = None  # a fatal error ended run()
        self.pumping_since: float | None = None  # perf_counter() when publishing began

    @property
    def published(self) -> int:
        """Events this relay published (acked), over its whole life."""
        current = self._pipeline.acks if self._pipeline else 0
        return self._published_before + current

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set (hot standby while another relay is active)."""
        try:
            asyncio.run(self._main(stop))
        except IncompatibleStream as error:
            self.error = error
            log.error("relay stopped: %s", error)

    async def _main(self, stop: threading.Event) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        watcher = threading.Thread(
            target=lambda: (stop.wait(), loop.call_soon_threadsafe(stopping.set)), daemon=True
        )
        watcher.start()
        while not stopping.is_set():
            db = RelayDatabase(self.conninfo, self.events_table)
            try:
                await db.open()
                if await db.try_lock():
                    self.active.set()
                    await self._active(db, stopping)
                    continue
            except IncompatibleStream:
                raise
            except Exception as error:
                # One line while a dependency is down; the traceback at debug level.
                log.warning("relay failed (%r); retrying", error)
                log.debug("relay failure", exc_info=True)
            finally:
                self.active.clear()
                await db.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.options.standby_interval)

    async def _active(self, db: RelayDatabase, stopping: asyncio.Event) -> None:
        # Subjects are built from checked tokens: skip re-validating each one.
        nc = await connection.connect(self.nats_url, "trawl-relay", skip_subject_validation=True)
        wake = asyncio.Event()
        listener = asyncio.create_task(listen(self.conninfo, self.channel, wake))
        stop_waker = asyncio.create_task(_forward(stopping, wake))
        try:
            js = nc.jetstream()
            await ensure_stream(js, self.spec)
            log.info("relay active: stream %s, subjects %s", self.spec.name, self.spec.subjects)
            await self._pump(db, js, self.publisher(nc), wake, stopping)
        finally:
            listener.cancel()
            stop_waker.cancel()
            with contextlib.suppress(Exception):
                await nc.close()

    async def _pump(
        self,
        db: RelayDatabase,
        js: JetStreamContext,
        publish: Publish,
        wake: asyncio.Event,
        stopping: asyncio.Event,
    ) -> None:
        options = self.options
        pipeline = await self._reconcile(db, js, publish)
        self.pumping_since = time.perf_counter()
        recorded, last_write = pipeline.acked, time.monotonic()
        reader = Prefetching(db, options.batch_size)
        stuck = 0  # resyncs in a row without progress
        while not stopping.is_set():
            wake.clear()  # before the select: a NOTIFY after it wakes the next wait
            try:
                batch = await reader.after(pipeline.sent)
                for number, stored in enumerate(batch, 1):
                    await pipeline.send(
                        messages.encode_stored(self.mapper, stored, stored.id, self.spec.prefix)
                    )
                    if number % options.flush_every == 0:
                        # Let the client's flusher write and the acks come in:
                        # publishing alone never yields to the event loop.
                        await asyncio.sleep(0)
                        pipeline.settle_ready()
                pipeline.settle_ready()
                if not batch:
                    await pipeline.settle_all()
            except Resync as error:
                self.resyncs += 1
                stuck = stuck + 1 if pipeline.acked == recorded else 0
                log.warning("relay resynchronising with the stream: %s", error)
                pipeline.abandon()
                if stuck:  # no progress since the last resync: do not spin on it
                    await asyncio.sleep(min(0.05 * 2**stuck, 5.0))
                pipeline = await self._reconcile(db, js, publish)
                recorded = pipeline.acked
                continue
            now = time.monotonic()
            if pipeline.acked != recorded and (
                not batch or now - last_write > options.record_interval
            ):
                await db.record(pipeline.acked)
                recorded, last_write = pipeline.acked, now
            if not batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), options.idle_timeout)
        await reader.close()
        with contextlib.suppress(Resync, TimeoutError):
            await asyncio.wait_for(pipeline.settle_all(), options.ack_timeout)
        if pipeline.acked != recorded:
            await db.record(pipeline.acked)

    async def _reconcile(
        self, db: RelayDatabase, js: JetStreamContext, publish: Publish
    ) -> Pipeline:
        """A fresh pipeline starting right after the stream's last message."""
        position, last_seq = await resume_point(js, db, self.spec)
        if self._pipeline is not None:
            self._published_before += self._pipeline.acks
        self._pipeline = Pipeline(
            publish,
            last_seq=last_seq,
            position=position,
            max_in_flight=self.options.max_in_flight,
            ack_timeout=self.options.ack_timeout,
        )
        return self._pipeline


async def _forward(stopping: asyncio.Event, wake: asyncio.Event) -> None:
    await stopping.wait()
    wake.set()


def relay_for(
    store: TrawlStore,
    database_url: str,
    nats_url: str,
    spec: StreamSpec,
    options: RelayOptions | None = None,
    publisher: Publisher = inbox_publisher,
) -> Relay:
    """The relay of a store's log (its table and NOTIFY channel) on Postgres."""
    recorder: Any = store.recorder
    return Relay(
        store.mapper,
        conninfo(database_url),
        recorder.events_table_name,
        recorder.channel_name,
        nats_url,
        spec,
        options,
        publisher,
    )
