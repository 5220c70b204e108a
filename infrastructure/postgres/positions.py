"""Read-your-writes: know which position each view has read, wake waiters.

One thread per process LISTENs on the views' channel (projectors NOTIFY at
commit) and wakes every waiter whose position has been reached; no polling.
The same connection serves other channels of the process (`on()`), e.g. the
key vault's evictions, so a process holds one listening connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from infrastructure.postgres import views
from infrastructure.postgres.listening import listener

log = logging.getLogger(__name__)


class PositionWatcher:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self._positions: dict[str, int] = {}
        self._changed = threading.Condition()
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._channels: dict[str, list[Callable[[str], None]]] = {}
        self._on_connect: list[Callable[[], None]] = []

    def on(
        self, channel: str, callback: Callable[[str], None], on_connect: Callable[[], None]
    ) -> None:
        """Also deliver `channel`'s payloads to `callback` (register before start()).

        `on_connect` runs after every (re)connection: notifications sent while
        disconnected are lost, so the subscriber must resynchronise there.
        """
        self._channels.setdefault(channel, []).append(callback)
        self._on_connect.append(on_connect)

    def start(self) -> None:
        self._reload()
        self._thread = threading.Thread(target=self._listen, name="trawl-positions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def positions(self) -> dict[str, int]:
        with self._changed:
            return dict(self._positions)

    def reached(self, names: Sequence[str], position: int) -> bool:
        with self._changed:
            return all(self._positions.get(name, 0) >= position for name in names)

    def wait(self, views_: Sequence[str], position: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._reached_locked(views_, position), timeout)

    async def wait_async(self, names: Sequence[str], position: int, timeout: float) -> bool:
        """Wait on the event loop (no thread per waiter)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.reached(names, position):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            event = asyncio.Event()
            entry = (loop, event)
            with self._changed:
                self._async_waiters.append(entry)
            try:
                if self.reached(names, position):
                    return True
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return self.reached(names, position)
            finally:
                with self._changed:
                    if entry in self._async_waiters:
                        self._async_waiters.remove(entry)
        return True

    def advance(self, view: str, position: int) -> None:
        with self._changed:
            if position <= self._positions.get(view, 0):
                return
            self._positions[view] = position
            self._changed.notify_all()
            waiters, self._async_waiters = self._async_waiters, []
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    def _deliver(self, channel: str, payload: str) -> None:
        if channel == views.CHANNEL:
            view, _, position = payload.rpartition(":")
            self.advance(view, int(position))
            return
        for callback in self._channels.get(channel, ()):
            callback(payload)

    def _reached_locked(self, names: Sequence[str], position: int) -> bool:
        return all(self._positions.get(name, 0) >= position for name in names)

    def _reload(self) -> None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT to_regclass('trawl_view_positions') AS t")
            row = curs.fetchone()
            if not row or row["t"] is None:
                return
            curs.execute("SELECT view, position FROM trawl_view_positions")
            for found in curs.fetchall():
                self.advance(found["view"], int(found["position"]))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with listener(self.datastore) as conn:
                    for channel in (views.CHANNEL, *self._channels):
                        conn.execute(SQL("LISTEN {}").format(Identifier(channel)))
                    self._reload()  # anything committed before LISTEN took effect
                    for resync in self._on_connect:
                        resync()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(note.channel, note.payload)
            except Exception:
                log.exception("position listener lost its connection; reconnecting")
                self._stop.wait(1.0)
