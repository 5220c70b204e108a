"""Runs a projection into its Postgres view: batches, exactly once, follows the log.

Each batch is one transaction: take the view's advisory lock (one writer per
view, however many processes run a projector), read the view's position,
select the next events after it, apply them to bulk-loaded rows, flush, and
write the new position. A crash anywhere rolls the whole batch back, so every
event is applied exactly once. `follow()` sleeps on LISTEN until the recorder's
NOTIFY says the log grew.

An event the projection cannot apply is parked in `trawl_parked_events`
(visible, retryable) instead of stalling the view forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.projections.base import Projection
from application.store import TrawlStore
from infrastructure.postgres import bulk, read_ahead, views
from infrastructure.postgres.batches import Decoded, lock_id, run_together
from infrastructure.postgres.listening import listener
from infrastructure.postgres.row_cache import RowCache

# lock_id: where other views import it
__all__ = ["Effect", "Progress", "Projector", "ProjectorGroup", "follow", "lock_id"]

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
# Run after the projection applied an event, on the batch's cursor: its writes
# (e.g. enqueuing a job) commit or roll back with the view's rows and position.
Effect = Callable[[Cursor[DictRow], Any, views.BatchRows], None]
# Rows a projector keeps between batches (see row_cache): a catch-up or a
# rebuild reads the rows of one view again and again; ~0.5-1 KB each.
CACHE_ROWS = 50_000


class Projector:
    def __init__(
        self,
        store: TrawlStore,
        datastore: PostgresDatastore,
        projection: Projection,
        schema: views.ViewSchema,
        *,
        suffix: str = "",
        batch_size: int = 2000,
        effect: Effect | None = None,
        lag: float = 0.0,
        durable: bool = True,
        cache_rows: int = CACHE_ROWS,
        deferred: bool = False,
    ) -> None:
        self.store = store
        self.datastore = datastore
        self.projection = projection
        self.schema = schema
        self.suffix = suffix
        self.batch_size = batch_size
        self.effect = effect
        # A view nobody waits on (no read-your-writes) may trail by `lag`
        # seconds, so it runs one batch per `lag` instead of one per commit.
        self.lag = lag
        # Rebuild and check tables need no fsync per batch: a crash loses the
        # last batches and their position together, and the replay resumes.
        self.durable = durable
        self.cache = RowCache(cache_rows)
        # Only for tables no one reads yet (a rebuild's): changed rows stay in
        # the cache and are written when it is full or at the end, each once.
        self.deferred = deferred
        self.view = schema.name + suffix
        self.channel = store.recorder.channel_name  # type: ignore[attr-defined]
        # Rendered once: only the events of interest carry their state; the
        # rest are selected too and count as read.
        self.topic_set = frozenset(projection.topics)
        self.select_sql = (
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic,"
                " CASE WHEN topic = ANY(%s) THEN state END AS state"
                " FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            )
            .format(Identifier(store.recorder.events_table_name))  # type: ignore[attr-defined]
            .as_string()
        )

    def setup(self) -> bool:
        """Create the view's tables if missing; True when the stored view has
        another shape than the code's (the caller rebuilds it: `rebuild()`)."""
        with self.datastore.transaction(commit=True) as curs:
            for statement in views.POSITIONS_DDL:
                curs.execute(statement)
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(self.schema.name),))
            stored = views.stored_shape(curs, self.view)
            views.create_view(curs, self.schema, self.suffix)
        return stored is not None and stored != self.schema.shape

    def position(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            return views.read_position(curs, self.view)

    def run_batch(self, curs: Cursor[DictRow] | None = None) -> int:
        """Apply the next batch; the number of events read (0 = caught up)."""
        if curs is not None:
            return self._batch(curs)
        with self.datastore.transaction(commit=True) as own:
            return self._batch(own)

    def catch_up(
        self, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> int:
        """Batches until a short one reaches the head; the events read."""
        return read_ahead.catch_up([self], self.batch_size, progress, stop)

    def follow(self, stop: threading.Event, idle_timeout: float = 1.0) -> None:
        """Catch up, then wait for NOTIFY (or a timeout) and repeat, until stopped."""
        follow(self, stop, idle_timeout)

    # -- one batch -----------------------------------------------------------

    def _batch(self, curs: Cursor[DictRow]) -> int:
        return run_together(curs, [self], self.batch_size).count

    def decode(
        self, curs: Cursor[DictRow], notifications: list[Notification], decoded: Decoded
    ) -> list[tuple[Notification, Any]]:
        """This view's events of `notifications`, decoded (once per event, in `decoded`
        shared by every view of the batch); an undecodable event is parked."""
        topics, events = self.topic_set, []
        for n in notifications:
            if n.topic not in topics:
                continue
            if n.id not in decoded:
                try:
                    decoded[n.id] = self.store.mapper.to_domain_event(n)
                except Exception as error:  # noqa: BLE001 - undecodable is poison too
                    decoded[n.id] = error
            event = decoded[n.id]
            if isinstance(event, Exception):
                self._park(curs, n, event)
            else:
                events.append((n, event))
        return events

    def apply(
        self, curs: Cursor[DictRow], events: list[tuple[Notification, Any]]
    ) -> views.BatchRows | None:
        """Apply decoded events to the view's rows; a failing event is parked.
        The batch's rows as written (None when applied one by one)."""
        rows = views.BatchRows(curs, self.schema, self.suffix, self.cache, self.deferred)
        keys = self.projection.keys
        rows.load(key for _, event in events for key in keys(event))
        curs.execute("SAVEPOINT batch")
        try:
            for _, event in events:
                self._apply(curs, event, rows)
            rows.flush()
        except Exception:  # noqa: BLE001 - find and park the poison event
            curs.execute("ROLLBACK TO SAVEPOINT batch")
            self.write_deferred(curs)  # the tables must hold every row: one by one reads them
            self.cache.forget()
            self._one_by_one(curs, events)
            return None
        return rows

    def write_deferred(self, curs: Cursor[DictRow]) -> None:
        """Write the rows deferred so far (COPY while the tables hold none of ours)."""
        cache = self.cache
        if not cache.unwritten:
            return
        changed = {entry: cache.rows[entry] for entry in cache.unwritten}
        copied = not cache.written and all(
            bulk.copy_rows(curs, spec, self.suffix, rows)
            for spec in self.schema.tables
            if (rows := [r for (t, _), r in changed.items() if t == spec.name and r is not None])
        )
        if not copied:  # a table refused COPY (rolled back): write them all the usual way
            batch = views.BatchRows(curs, self.schema, self.suffix)
            batch.write(changed)
            batch.flush()
        cache.unwritten.clear()
        cache.written = True
        if cache.full:
            cache.rows.clear()

    def _apply(self, curs: Cursor[DictRow], event: Any, rows: views.BatchRows) -> None:
        self.projection.process(event, rows)
        if self.effect is not None:
            self.effect(curs, event, rows)

    def _one_by_one(self, curs: Cursor[DictRow], events: list[tuple[Notification, Any]]) -> None:
        for notification, event in events:
            rows = views.BatchRows(curs, self.schema, self.suffix)
            rows.load(self.projection.keys(event))
            curs.execute("SAVEPOINT one")
            try:
                self._apply(curs, event, rows)
                rows.flush()
            except Exception as error:  # noqa: BLE001
                curs.execute("ROLLBACK TO SAVEPOINT one")
                self._park(curs, notification, error)

    def _park(self, curs: Cursor[DictRow], notification: Notification, error: Exception) -> None:
        log.error("view %s parked event %s: %s", self.view, notification.id, error)
        curs.execute(
            "INSERT INTO trawl_parked_events (view, position, topic, error)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (self.view, notification.id, notification.topic, repr(error)[:2000]),
        )


class ProjectorGroup:
    """Several views followed by one thread, one transaction per batch for all.

    Live, the views of `trawl serve` each see a few events per commit; run
    apart, every view pays its own transaction, log read, decode and position
    write for them. Together (`run_together`), the log is read and decoded
    once and one commit covers every view's rows and positions. Each view
    keeps its own position, so status, read-your-writes and rebuilds see the
    views one by one as before. A batch one view cannot commit holds the
    others back until the retry succeeds (events it cannot apply are parked,
    not retried).
    """

    def __init__(self, projectors: list[Projector]) -> None:
        self.projectors = projectors
        self.datastore = projectors[0].datastore
        self.channel = projectors[0].channel
        self.batch_size = min(p.batch_size for p in projectors)
        self.lag = max(p.lag for p in projectors)
        self.view = "+".join(p.view for p in projectors)

    def catch_up(
        self, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> int:
        """Batches until a short one reaches the head; the events read."""
        return read_ahead.catch_up(self.projectors, self.batch_size, progress, stop)

    def follow(self, stop: threading.Event, idle_timeout: float = 1.0) -> None:
        """Catch up, then wait for NOTIFY (or a timeout) and repeat, until stopped."""
        follow(self, stop, idle_timeout)


def follow(
    target: Projector | ProjectorGroup,
    stop: threading.Event,
    idle_timeout: float = 1.0,
    coalesce: float = 0.02,
) -> None:
    """Catch `target` up, then wait for NOTIFY (or a timeout) and repeat, until stopped.

    Under load (a wake-up soon after the previous batch) it lingers
    `coalesce` seconds, so commits landing together are applied in one batch
    instead of one transaction each; when idle it applies at once, so
    read-your-writes stays fast. A `lag` lingers that long on every wake-up.
    """
    with listener(target.datastore) as conn:
        conn.execute(SQL("LISTEN {}").format(Identifier(target.channel)))
        last_batch = 0.0
        while not stop.is_set():
            try:
                target.catch_up(stop=stop)
            except Exception:
                log.exception("projector %s failed a batch; retrying", target.view)
                stop.wait(idle_timeout)
            busy = time.monotonic() - last_batch < 2 * coalesce
            last_batch = time.monotonic()
            woke = any(True for _ in conn.notifies(timeout=idle_timeout, stop_after=1))
            if woke and (busy or target.lag):
                stop.wait(max(coalesce, target.lag))
            for _ in conn.notifies(timeout=0.0):  # drained: one batch covers them
                pass
