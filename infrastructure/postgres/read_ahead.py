"""Catching up: batch after batch, with the next batch read while one applies.

While a batch waits on Postgres (its upserts, its commit), a thread selects
and decodes the following events, so the next batch starts with them in hand.
Reading the log needs no lock: events are immutable and become visible in
position order (the recorder allocates positions under its table lock). The
batch still takes its views' locks and reads their positions; the events read
ahead are used only if they start where the views stand, and otherwise read
again, so another process's projector moving the view costs time, not
correctness.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from infrastructure.postgres.batches import Ahead, decode_all, run_together, select

if TYPE_CHECKING:
    from infrastructure.postgres.projector import Projector

Progress = Callable[[int], None]


def catch_up(
    projectors: Sequence[Projector],
    limit: int,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run batches of `projectors` until a short batch reaches the head; the
    events read. Reads ahead once a batch comes back full (the views lag)."""
    datastore, total, reader = projectors[0].datastore, 0, None
    try:
        while not (stop and stop.is_set()):
            ahead = reader.next() if reader else None
            with datastore.transaction(commit=True) as curs:
                batch = run_together(curs, projectors, limit, ahead)
            total += batch.count
            if progress and batch.count:
                progress(batch.count)
            if batch.count < limit:  # a short batch reached the head
                break
            if reader is None or not batch.used_ahead:  # (re)start right after this batch
                if reader:
                    reader.close()
                reader = Reader(projectors, limit, batch.last)
    finally:
        if reader:
            reader.close()
    return total


class Reader:
    """Selects and decodes batches from `start` on a thread, one batch ahead."""

    def __init__(self, projectors: Sequence[Projector], limit: int, start: int) -> None:
        self.projectors, self.limit, self.start = projectors, limit, start
        self._queue: queue.Queue[Ahead | BaseException | None] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trawl-read-ahead", daemon=True)
        self._thread.start()

    def next(self) -> Ahead | None:
        """The next batch read ahead (None when the reader stopped or failed:
        the caller then reads the batch itself)."""
        item = self._queue.get()
        if isinstance(item, Ahead):
            return item
        self._stop.set()
        self._queue.put(None)  # later calls return at once too
        return None

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)  # unblock a pending put

    def _run(self) -> None:
        projectors, start = self.projectors, self.start
        topics = sorted({t for p in projectors for t in p.projection.topics})
        try:
            while not self._stop.is_set():
                with projectors[0].datastore.transaction(commit=False) as curs:
                    notifications = select(
                        curs, projectors[0].select_sql, topics, start, self.limit
                    )
                decoded = decode_all(projectors, notifications)
                self._put(Ahead(start, notifications, decoded))
                if len(notifications) < self.limit:
                    break
                start = notifications[-1].id
        except BaseException as error:  # noqa: BLE001 - the batch reads for itself instead
            self._put(error)
        self._put(None)

    def _put(self, item: Ahead | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue
