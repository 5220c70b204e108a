"""The audit hash chain in Postgres: the links table, its writer and its walk.

`trawl_event_links` holds one link per event position (see
application/audit/chain.py). The recorder reads the head (`HEAD`) and
inserts the new links (`INSERT`, with `links()`) inside its insert
transaction, under its table lock, so links are written in log order and a
reader never sees an event without its link. `rows()` streams events and
links side by side (a FULL JOIN, so a row deleted on either side shows) with
a server-side cursor, for `verify` and `export`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
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
INSERT = (
    "INSERT INTO trawl_event_links (position, link) SELECT * FROM unnest(%b::bigint[], %b::bytea[])"
)
_EVENTS = (
    "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state"
    " FROM {} WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id"
)
_LINKS = (
    "SELECT position, link FROM trawl_event_links"
    " WHERE position > %s AND position <= %s ORDER BY position"
)


def next_result(curs: Cursor[DictRow], skip_current: bool = False) -> None:
    """Move a multi-statement execute's cursor to the next result with rows."""
    if skip_current:
        curs.nextset()
    while curs.description is None and curs.nextset():
        pass


def read_head(curs: Cursor[DictRow]) -> bytes:
    """The head link: the first result with rows of a prelude holding HEAD."""
    next_result(curs)
    row = curs.fetchone()
    return bytes(row["link"]) if row else chain.GENESIS


def links(previous: bytes, events: Sequence[StoredEvent], ids: Sequence[int]) -> list[bytes]:
    """The links of new events at positions `ids` (increasing), after `previous`."""
    found = []
    for position, event in zip(ids, events, strict=True):
        previous = chain.link(
            previous,
            position,
            event.originator_id.bytes,  # type: ignore[union-attr]
            event.originator_version,
            event.topic,
            event.state,
        )
        found.append(previous)
    return found


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
    upto: int | None = None,
    batch: int = 10_000,
) -> Iterator[ChainRow]:
    """Events and links after `after` up to `upto` (default: the head now), in
    position order, streamed.

    Two plain index scans merged here cost far less than a FULL JOIN in SQL.
    Both are bounded by the same `upto`: later commits only add positions
    above the head (positions follow commit order), so the scans agree.
    """
    if upto is None:
        upto = head(datastore)[0]
    events_sql = SQL(_EVENTS).format(Identifier(events_table))
    with (
        datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(name="trawl_walk_events", binary=True, row_factory=tuple_row) as events,
        conn.cursor(name="trawl_walk_links", binary=True, row_factory=tuple_row) as links,
    ):
        events.itersize = links.itersize = batch
        events.execute(events_sql, (after, upto))
        links.execute(_LINKS, (after, upto))
        yield from _merge(iter(events), iter(links))


def _merge(events: Iterator[Any], links: Iterator[Any]) -> Iterator[ChainRow]:
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event[0] < link[0]):
            yield (*event, None)  # type: ignore[misc]
            event = next(events, None)
        elif event is None or link[0] < event[0]:
            yield (link[0], None, None, None, None, link[1])
            link = next(links, None)
        else:
            yield (*event, link[1])
            event, link = next(events, None), next(links, None)


class AuditReads:
    """The `AuditLog` port, read from Postgres (mixed into the recorder)."""

    datastore: PostgresDatastore
    events_table_name: str

    def chain_rows(self, after: int = 0, upto: int | None = None) -> Iterator[ChainRow]:
        return rows(self.datastore, self.events_table_name, after, upto)

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
