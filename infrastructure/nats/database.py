"""The relay's side of Postgres: its lock, its position row, reads of the log.

One connection per active relay: it holds the session advisory lock (so a
relay whose connection dies loses the lock with it, and a standby takes
over), reads the log and writes the position. The position lives in
`trawl_view_positions` under the view name `relay`, like a read model's, so
`X-Trawl-Wait-For`-style tooling and the position watcher see it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from eventsourcing.persistence import Notification
from psycopg.sql import SQL, Identifier

from infrastructure.postgres import views
from infrastructure.postgres.projector import lock_id

log = logging.getLogger(__name__)

RELAY_VIEW = "relay"


class RelayDatabase:
    """Lock, position and log reads over one autocommit connection."""

    def __init__(self, conninfo: str, events_table: str) -> None:
        self.conninfo = conninfo
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._select = (
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            )
            .format(Identifier(events_table))
            .as_string()
        )
        self._head = SQL("SELECT max(notification_id) FROM {}").format(Identifier(events_table))

    @property
    def conn(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        if self._conn is None:
            raise RuntimeError("the relay's database connection is not open")
        return self._conn

    async def open(self) -> None:
        self._conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        for statement in views.POSITIONS_DDL:
            await self.conn.execute(statement)
        await self.conn.execute(
            "INSERT INTO trawl_view_positions (view) VALUES (%s) ON CONFLICT DO NOTHING",
            (RELAY_VIEW,),
        )

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def try_lock(self) -> bool:
        """Take the relay's advisory lock for this session (False: another relay holds it)."""
        cursor = await self.conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_id(RELAY_VIEW),))
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def position(self) -> int:
        cursor = await self.conn.execute(
            "SELECT position FROM trawl_view_positions WHERE view = %s", (RELAY_VIEW,)
        )
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def record(self, position: int) -> None:
        """Write the position (the highest event the stream is known to hold)."""
        async with self.conn.transaction():
            await self.conn.execute(
                "UPDATE trawl_view_positions SET position = %s, updated_at = now() WHERE view = %s",
                (position, RELAY_VIEW),
            )
            await self.conn.execute(
                "SELECT pg_notify(%s, %s)", (views.CHANNEL, f"{RELAY_VIEW}:{position}")
            )

    async def head(self) -> int:
        cursor = await self.conn.execute(self._head)
        row = await cursor.fetchone()
        return int(row[0] or 0) if row else 0

    async def select(self, after: int, limit: int) -> list[Notification]:
        """The next `limit` events after position `after`, in log order."""
        async with self.conn.cursor(binary=True) as cursor:
            await cursor.execute(self._select, (after, limit), prepare=True)
            rows = await cursor.fetchall()
        return [
            Notification(
                id=row[0],
                originator_id=row[1],
                originator_version=row[2],
                topic=row[3],
                state=bytes(row[4]),
            )
            for row in rows
        ]


class Prefetching:
    """Batches of the log in order; a full batch starts selecting the next one at
    once, so Postgres works on it while this one is encoded and published."""

    def __init__(self, db: RelayDatabase, batch_size: int) -> None:
        self.db = db
        self.batch_size = batch_size
        self._ahead: tuple[int, asyncio.Task[list[Notification]]] | None = None

    async def after(self, position: int) -> list[Notification]:
        """The next batch after `position`."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == position:
            batch = await ahead[1]
        else:
            if ahead is not None:  # stale after a resync: let it finish, drop it
                with contextlib.suppress(Exception):
                    await ahead[1]
            batch = await self.db.select(position, self.batch_size)
        if len(batch) == self.batch_size:
            last = batch[-1].id
            self._ahead = (last, asyncio.create_task(self.db.select(last, self.batch_size)))
        return batch

    async def close(self) -> None:
        if self._ahead is not None:
            with contextlib.suppress(Exception):
                await self._ahead[1]
            self._ahead = None


async def listen(conninfo: str, channel: str, wake: asyncio.Event) -> None:
    """Set `wake` on every NOTIFY of `channel`, until cancelled; reconnects on errors.

    While disconnected the relay still polls (its idle timeout), so a lost
    notification costs latency, never an event.
    """
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(SQL("LISTEN {}").format(Identifier(channel)))
                wake.set()  # anything committed before LISTEN took effect
                async for _ in conn.notifies():
                    wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("relay listener lost its connection; reconnecting", exc_info=True)
            wake.set()
            await asyncio.sleep(1.0)
