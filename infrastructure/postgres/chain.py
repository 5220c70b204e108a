"""The audit hash chain in Postgres: the links table, its writer and its walk.

`trawl_event_links` holds one link per event position (see
application/audit/chain.py). `append()` runs inside the recorder's insert
transaction, under its table lock, so links are written in log order and a
reader never sees an event without its link. `rows()` streams events and
links side by side (a FULL JOIN, so a row deleted on either side shows) with
a server-side cursor, for `verify` and `export`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from application.audit import chain
from application.audit.chain import ChainRow

DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_event_links ("
    " position bigint PRIMARY KEY, link bytea NOT NULL)",
)
HEAD = "SELECT position, link FROM trawl_event_links ORDER BY position DESC LIMIT 1"
_INSERT = (
    "INSERT INTO trawl_event_links (position, link) SELECT * FROM unnest(%b::bigint[], %b::bytea[])"
)
_WALK = (
    "SELECT coalesce(e.notification_id, l.position), uuid_send(e.originator_id),"
    " e.originator_version, e.topic, e.state, l.link"
    " FROM (SELECT * FROM {events} WHERE notification_id > %(after)s"
    "  AND notification_id <= %(upto)s) e"
    " FULL JOIN (SELECT * FROM trawl_event_links WHERE position > %(after)s"
    "  AND position <= %(upto)s) l ON l.position = e.notification_id"
    " ORDER BY 1"
)


def read_head(curs: Cursor[DictRow]) -> bytes:
    """The head link from the last result of a multi-statement execute ending in HEAD."""
    while curs.description is None and curs.nextset():
        pass
    row = curs.fetchone()
    return bytes(row["link"]) if row else chain.GENESIS


def append(
    curs: Cursor[DictRow], events: Sequence[StoredEvent], ids: Sequence[int], previous: bytes
) -> None:
    """Link new events (positions `ids`) after `previous`, the current head link."""
    if not ids:
        return
    positions, links = [], []
    # Positions come back in insertion order; sort anyway, the chain is in log order.
    for position, event in sorted(zip(ids, events, strict=True), key=lambda pair: pair[0]):
        previous = chain.link(
            previous,
            position,
            event.originator_id.bytes,  # type: ignore[union-attr]
            event.originator_version,
            event.topic,
            event.state,
        )
        positions.append(position)
        links.append(previous)
    curs.execute(_INSERT, (positions, links), prepare=True)


def head(datastore: PostgresDatastore) -> tuple[int, bytes]:
    """The newest link and its position ((0, GENESIS) on an empty log)."""
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(HEAD)
        row = curs.fetchone()
    return (int(row["position"]), bytes(row["link"])) if row else (0, chain.GENESIS)


def link_at(datastore: PostgresDatastore, position: int) -> bytes | None:
    """The stored link at a position (None when there is none)."""
    if position == 0:
        return chain.GENESIS
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute("SELECT link FROM trawl_event_links WHERE position = %s", (position,))
        row = curs.fetchone()
    return bytes(row["link"]) if row else None


def rows(
    datastore: PostgresDatastore,
    events_table: str,
    after: int = 0,
    upto: int = 2**62,
    batch: int = 10_000,
) -> Iterator[ChainRow]:
    """Events and links after `after` up to `upto`, in position order, streamed."""
    sql = SQL(_WALK).format(events=Identifier(events_table))
    with (
        datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(name="trawl_chain_walk", binary=True, row_factory=tuple_row) as curs,
    ):
        curs.itersize = batch
        curs.execute(sql, {"after": after, "upto": upto})
        yield from curs  # type: ignore[misc]


class AuditReads:
    """The `AuditLog` port, read from Postgres (mixed into the recorder)."""

    datastore: PostgresDatastore
    events_table_name: str

    def chain_rows(self, after: int = 0, upto: int | None = None) -> Iterator[ChainRow]:
        return rows(self.datastore, self.events_table_name, after, upto or 2**62)

    def link_at(self, position: int) -> bytes | None:
        return link_at(self.datastore, position)

    def chain_head(self) -> tuple[int, bytes]:
        return head(self.datastore)

    def aggregate_notifications(
        self, originator_id: UUID, after_version: int, limit: int
    ) -> list[Notification]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state"
                    " FROM {} WHERE originator_id = %s AND originator_version > %s"
                    " ORDER BY originator_version LIMIT %s"
                ).format(Identifier(self.events_table_name)),
                (originator_id, after_version, limit),
                prepare=True,
            )
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]
