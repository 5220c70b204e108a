"""THE application recorder: events + side records in one transaction.

A subclass of the library's Postgres application recorder. It keeps the
library's table, its `LOCK TABLE ... IN EXCLUSIVE MODE` (positions in commit
order, never back-filled) and its NOTIFY, and adds:

- side records (claims, idempotency answers, credentials) written in the same
  transaction as the events: see `side_tables.py`;
- group commit: concurrent `insert_events` calls are queued and a committer
  thread writes up to `max_batch` of them in ONE transaction, each caller
  still getting its own notification ids or its own error. When a batch fails
  (a version conflict, a taken claim) the committer retries its requests one
  by one, so exactly the conflicting ones fail;
- the audit hash chain: the prelude allocates the batch's positions
  (`nextval`, under the table lock, so in commit order); the links are
  computed here from the head link (remembered from this process's last
  commit, read again only when another writer took positions since) and
  inserted by the same statement as the events.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from application import records
from infrastructure.postgres import chain, side_tables


@dataclass
class _Request:
    events: Sequence[StoredEvent]
    side: Sequence[records.SideRecord]
    done: threading.Event = field(default_factory=threading.Event)
    ids: list[int] = field(default_factory=list)
    error: BaseException | None = None


class TrawlRecorder(side_tables.SideTableReads, chain.AuditReads, PostgresApplicationRecorder):
    """The Postgres application recorder of Trawl's one log."""

    chained = True  # link events into the audit hash chain (bench/ compares without)

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "trawl_events",
        group_commit: bool = True,
        max_batch: int = 200,
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements.extend(
            Composed([SQL(s)]) for s in (*side_tables.DDL, *chain.DDL)
        )
        self.group_commit = group_commit
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._committer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Rendered once: composing SQL per transaction costs more than the insert.
        self._prelude = (
            SQL("SET LOCAL lock_timeout = '{0}s'; LOCK TABLE {1} IN EXCLUSIVE MODE; NOTIFY {2}")
            .format(
                self.datastore.lock_timeout,
                Identifier(self.events_table_name),
                Identifier(self.channel_name),
            )
            .as_string()
        )
        # The last link this process committed: while no other writer took a
        # position since (the allocated ids follow it), no head read is needed.
        self._last_link: tuple[int, bytes] = (-1, b"")
        # Positions are allocated under the table lock, so they follow commit order.
        self._allocate = (
            "; SELECT nextval(pg_get_serial_sequence("
            f"'{self.events_table_name}', 'notification_id')) AS id"
            " FROM generate_series(1, {count})"
        )
        # Column arrays dump faster than an array of composite values.
        insert = SQL(
            "INSERT INTO {0} (notification_id, originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::bigint[], %b::uuid[], %b::bigint[], %b::text[],"
            " %b::bytea[])"
        ).format(Identifier(self.events_table_name))
        if self.chained:  # one statement writes the events and their links
            insert = SQL("WITH e AS ({}) {}").format(insert, SQL(chain.INSERT))
        self._insert = insert.as_string()
        self._select_many = (
            SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}"
                " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            )
            .format(Identifier(self.events_table_name))
            .as_string()
        )

    # -- reading ---------------------------------------------------------------

    def select_events_of(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of several aggregates in one query, by originator,
        each in version order (an aggregate without events is absent)."""
        found: dict[UUID, list[StoredEvent]] = {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_many, (list(originator_ids),), prepare=True)
            for row in curs.fetchall():
                found.setdefault(row["originator_id"], []).append(
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
        return found

    # -- writing ---------------------------------------------------------------

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if kwargs.get("tracking") is not None:
            raise NotImplementedError("projections track positions in their own views")
        request = _Request(stored_events, kwargs.get("side", ()))
        if not self.group_commit:
            self._write_alone(request)
        else:
            self._ensure_committer()
            self._queue.put(request)
            request.done.wait()
        if request.error is not None:
            raise request.error
        return request.ids

    def _ensure_committer(self) -> None:
        if self._committer is None:
            with self._start_lock:
                if self._committer is None:
                    self._committer = threading.Thread(
                        target=self._commit_loop, name="trawl-group-commit", daemon=True
                    )
                    self._committer.start()

    def _commit_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write_batch(batch)

    def _write_batch(self, batch: list[_Request]) -> None:
        try:
            self._write(batch)
        except BaseException as error:  # noqa: BLE001 - every caller must hear
            if len(batch) == 1:
                batch[0].error = error
            else:
                for request in batch:
                    self._write_alone(request)
                return
        for request in batch:
            request.done.set()

    def _write_alone(self, request: _Request) -> None:
        try:
            self._write([request])
        except BaseException as error:  # noqa: BLE001
            request.error = error
        request.done.set()

    def _write(self, batch: list[_Request]) -> None:
        events = [event for request in batch for event in request.events]
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            prelude = self._prelude
            if events:
                prelude += self._allocate.format(count=len(events))
            curs.execute(prelude)
            ids = self._allocated(curs) if events else []
            links = self._insert_rows(curs, events, ids)
            offset = 0
            head: int | None = ids[-1] if ids else None
            for request in batch:
                request.ids = ids[offset : offset + len(request.events)]
                offset += len(request.events)
                if request.side:
                    if head is None:
                        head = self._head(curs)
                    position = max(request.ids, default=head)
                    side_tables.write(curs, request.side, position)
        if links:  # committed: the next batch may start from it
            self._last_link = (ids[-1], links[-1])

    def _allocated(self, curs: Cursor[DictRow]) -> list[int]:
        """The positions the prelude allocated (its last result)."""
        chain.next_result(curs)
        return [row["id"] for row in curs.fetchall()]

    def _previous_link(self, curs: Cursor[DictRow], first: int) -> bytes:
        """The chain's head link before position `first` (read under the table lock)."""
        position, link = self._last_link
        if first == position + 1:  # nobody took a position since our last commit
            return link
        curs.execute(chain.HEAD, prepare=True)
        return chain.read_head(curs)

    def _insert_rows(
        self, curs: Cursor[DictRow], events: Sequence[StoredEvent], ids: list[int]
    ) -> list[bytes]:
        """Insert the events at positions `ids` and, chained, their links; the links."""
        if not events:
            return []
        columns: list[list[Any]] = [
            ids,
            [e.originator_id for e in events],
            [e.originator_version for e in events],
            [e.topic for e in events],
            [e.state for e in events],
        ]
        links: list[bytes] = []
        if self.chained:
            links = chain.links(self._previous_link(curs, ids[0]), events, ids)
            columns += [ids, links]
        try:
            curs.execute(self._insert, columns, prepare=True)
        except psycopg.errors.UniqueViolation as error:
            raise IntegrityError(str(error)) from error
        return links

    def _head(self, curs: Cursor[DictRow]) -> int:
        curs.execute(self.max_notification_id_statement)
        row = curs.fetchone()
        return int(row["max"] or 0) if row else 0
