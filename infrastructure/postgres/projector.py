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
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from application.projections.base import Projection
from application.store import TrawlStore
from infrastructure.postgres import views
from infrastructure.postgres.row_cache import RowCache

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
# Run after the projection applied an event, on the batch's cursor: its writes
# (e.g. enqueuing a job) commit or roll back with the view's rows and position.
Effect = Callable[[Cursor[DictRow], Any, views.BatchRows], None]
# Rows a projector keeps between batches (see row_cache): a catch-up or a
# rebuild reads the rows of one view again and again; ~0.5-1 KB each.
CACHE_ROWS = 50_000
# Events decoded in one batch, by position (or why one could not be decoded).
Decoded = dict[int, Any]


def lock_id(view: str) -> int:
    """A stable 31-bit advisory-lock id for a view name."""
    return zlib.crc32(f"trawl-view:{view}".encode()) & 0x7FFFFFFF


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
        total = 0
        while not (stop and stop.is_set()):
            count = self.run_batch()
            total += count
            if progress and count:
                progress(count)
            if count < self.batch_size:  # a short batch reached the head
                break
        return total

    def follow(
        self, stop: threading.Event, idle_timeout: float = 1.0, coalesce: float = 0.02
    ) -> None:
        """Catch up, then wait for NOTIFY (or a timeout) and repeat, until stopped.

        Under load (a wake-up soon after the previous batch) it lingers
        `coalesce` seconds, so commits landing together are applied in one
        batch instead of one transaction each; when idle it applies at once,
        so read-your-writes stays fast.
        """
        with self.datastore.get_connection() as conn:
            conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
            last_batch = 0.0
            while not stop.is_set():
                try:
                    self.catch_up(stop=stop)
                except Exception:
                    log.exception("projector %s failed a batch; retrying", self.view)
                    stop.wait(idle_timeout)
                busy = time.monotonic() - last_batch < 2 * coalesce
                last_batch = time.monotonic()
                woke = any(True for _ in conn.notifies(timeout=idle_timeout, stop_after=1))
                if woke and (busy or self.lag):
                    stop.wait(max(coalesce, self.lag))
                for _ in conn.notifies(timeout=0.0):  # drained: one batch covers them
                    pass

    # -- one batch -----------------------------------------------------------

    def _batch(self, curs: Cursor[DictRow]) -> int:
        return run_together(curs, [self], self.batch_size)

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
        rows = views.BatchRows(curs, self.schema, self.suffix, self.cache)
        keys = self.projection.keys
        rows.load(key for _, event in events for key in keys(event))
        curs.execute("SAVEPOINT batch")
        try:
            for _, event in events:
                self._apply(curs, event, rows)
            rows.flush()
        except Exception:  # noqa: BLE001 - find and park the poison event
            curs.execute("ROLLBACK TO SAVEPOINT batch")
            self.cache.forget()
            self._one_by_one(curs, events)
            return None
        return rows

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


def run_together(curs: Cursor[DictRow], projectors: Sequence[Projector], limit: int) -> int:
    """One batch for several views in one transaction: the next `limit` events
    after the lowest of their positions, selected and decoded once for all of
    them; each view applies those after its own position and writes its new
    position. The number of events read (0 = every view is caught up)."""
    if not all(p.durable for p in projectors):
        curs.execute("SET LOCAL synchronous_commit = off")
    for lock in sorted({lock_id(p.schema.name) for p in projectors}):  # one order: no deadlock
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
    marks = [views.read_mark(curs, p.view) for p in projectors]
    for projector, (_, mark) in zip(projectors, marks, strict=True):
        projector.cache.validate(mark)
    starts = [position for position, _ in marks]
    topics = sorted({t for p in projectors for t in p.projection.topics})
    notifications = _select(curs, projectors[0].select_sql, topics, min(starts), limit)
    if not notifications:
        return 0
    decoded: Decoded = {}
    for projector, start in zip(projectors, starts, strict=True):
        # A view ahead of the others (e.g. left by a crash between views) skips what it has.
        mine = [n for n in notifications if n.id > start] if start > min(starts) else notifications
        if mine:
            rows = projector.apply(curs, projector.decode(curs, mine, decoded))
            mark = views.write_position(curs, projector.view, notifications[-1].id)
            if rows is not None:
                projector.cache.stage(mark, rows.rows, rows.wiped)
    return len(notifications)


def _select(
    curs: Cursor[DictRow], sql: str, topics: list[str], start: int, limit: int
) -> list[Notification]:
    # Plain tuples: a dict per row costs more than the rest of the read.
    with curs.connection.cursor(row_factory=tuple_row) as raw:
        raw.execute(sql, (topics, start, limit), prepare=True)
        return [
            Notification(originator, version, topic, state if state is not None else b"", i)
            for i, originator, version, topic, state in raw.fetchall()
        ]
