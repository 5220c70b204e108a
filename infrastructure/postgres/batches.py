"""One batch of one or several views: a transaction that reads the log once.

The views' advisory locks are taken (in one order, so two batches never wait
on each other), their positions and marks read, the next events after the
lowest position selected and decoded once, then each view applies those
after its own position and writes its new position, all in the caller's
transaction: rows and positions commit or roll back together.
"""

from __future__ import annotations

import gc
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row

from infrastructure.postgres import views

if TYPE_CHECKING:
    from infrastructure.postgres.projector import Projector

# Events decoded in one batch, by position (or why one could not be decoded).
Decoded = dict[int, Any]


@dataclass(frozen=True)
class Ahead:
    """Events after `start`, selected and decoded before their batch began."""

    start: int
    notifications: list[Notification]
    decoded: Decoded


@dataclass(frozen=True)
class Batch:
    """What a batch did: events read, the last position, whether it used `Ahead`."""

    count: int
    last: int
    used_ahead: bool


def lock_id(view: str) -> int:
    """A stable 31-bit advisory-lock id for a view name."""
    return zlib.crc32(f"trawl-view:{view}".encode()) & 0x7FFFFFFF


def run_together(
    curs: Cursor[DictRow], projectors: Sequence[Projector], limit: int, ahead: Ahead | None = None
) -> Batch:
    """One batch for several views in one transaction: the next `limit` events
    after the lowest of their positions, selected and decoded once for all of
    them; each view applies those after its own position and writes its new
    position (count 0 = every view is caught up). Events read `ahead` are used
    when they start where the views stand."""
    with gc_paused():
        return _run(curs, projectors, limit, ahead)


def _run(
    curs: Cursor[DictRow], projectors: Sequence[Projector], limit: int, ahead: Ahead | None
) -> Batch:
    durable = all(p.durable for p in projectors)
    if not durable:
        curs.execute("SET LOCAL synchronous_commit = off")
    # One order (sorted), so two batches never wait on each other.
    locks = sorted({lock_id(p.schema.name) for p in projectors})
    curs.execute("SELECT pg_advisory_xact_lock(lock) FROM unnest(%s::bigint[]) AS lock", (locks,))
    marks = views.read_marks(curs, [p.view for p in projectors])
    for projector, (_, mark) in zip(projectors, marks, strict=True):
        projector.cache.validate(mark)
    starts = [position for position, _ in marks]
    used = ahead is not None and ahead.start == min(starts)
    if ahead is not None and used:
        notifications, decoded = ahead.notifications, ahead.decoded
    else:
        topics = sorted({t for p in projectors for t in p.projection.topics})
        notifications = select(curs, projectors[0].select_sql, topics, min(starts), limit)
        decoded = {}
    if not notifications:
        return Batch(0, min(starts), used)
    if len(notifications) == limit and durable:
        # More events wait: another batch follows at once, and its commit (or
        # the last, short one's) flushes this one's WAL too. Crashing before
        # loses this batch's rows and position together, and the replay
        # resumes from the position before: still exactly once.
        curs.execute("SET LOCAL synchronous_commit = off")
    applied = []
    for projector, start in zip(projectors, starts, strict=True):
        # A view ahead of the others (e.g. left by a crash between views) skips what it has.
        mine = [n for n in notifications if n.id > start] if start > min(starts) else notifications
        if mine:
            applied.append(
                (projector, projector.apply(curs, projector.decode(curs, mine, decoded)))
            )
    last = notifications[-1].id
    if applied:
        moves = [(p.view, last, not p.suffix) for p, _ in applied]
        mark = views.write_positions(curs, moves)
        for projector, rows in applied:
            _keep(curs, projector, rows, mark)
    return Batch(len(notifications), last, used)


def _keep(
    curs: Cursor[DictRow], projector: Projector, rows: views.BatchRows | None, mark: str
) -> None:
    """Keep the batch's rows for the next batch (or defer their write)."""
    if rows is None:
        return
    if projector.deferred:
        projector.cache.defer(mark, rows.rows, rows.dirty, rows.wiped)
        if projector.cache.full:
            projector.write_deferred(curs)
    else:
        projector.cache.stage(mark, rows.rows, rows.wiped)


def decode_all(projectors: Sequence[Projector], notifications: list[Notification]) -> Decoded:
    """Decode every event any of `projectors` wants (or keep why it failed)."""
    topics = {t for p in projectors for t in p.projection.topics}
    mapper, decoded = projectors[0].store.mapper, Decoded()
    for n in notifications:
        if n.topic in topics:
            try:
                decoded[n.id] = mapper.to_domain_event(n)
            except Exception as error:  # noqa: BLE001 - parked by the batch that applies it
                decoded[n.id] = error
    return decoded


def select(
    curs: Cursor[DictRow], sql: str, topics: list[str], start: int, limit: int
) -> list[Notification]:
    # Plain tuples: a dict per row costs more than the rest of the read.
    with curs.connection.cursor(row_factory=tuple_row) as raw:
        raw.execute(sql, (topics, start, limit), prepare=True)
        return [
            Notification(originator, version, topic, state if state is not None else b"", i)
            for i, originator, version, topic, state in raw.fetchall()
        ]


class _GCPause:
    """Counts the batches applying in this process; the first turns the collector off."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.applying = 0
        self.was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.applying == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.applying += 1
        try:
            yield
        finally:
            with self.lock:
                self.applying -= 1
                if self.applying == 0 and self.was_enabled:
                    gc.enable()


# No cyclic GC while a batch applies its events: a batch allocates a few
# objects per event, and rows kept between batches make the heap large, so
# full collections cost ~15% of a catch-up. Rows and events hold no cycles;
# reference counting frees them, and the collector runs again once no batch
# of this process is applying.
gc_paused = _GCPause()
