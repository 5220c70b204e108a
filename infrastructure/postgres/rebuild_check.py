"""`trawl rebuild --check`: rebuild a view aside and compare it row by row.

The view is replayed from position 0 into scratch tables (suffix `__check`)
while the live one keeps serving. Then one transaction holds the view's
advisory lock (its projector pauses), brings the live view and the scratch
one to the same position, and compares every table with a FULL JOIN on its
key. That transaction rolls back and the scratch tables are dropped: nothing
is swapped, the live view is left to its projector.
"""

from __future__ import annotations

from typing import Any

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.audit.ports import Finding, Progress
from infrastructure.postgres import views
from infrastructure.postgres.batches import lock_id
from infrastructure.postgres.projector import Projector

CHECK = "__check"
SHOWN = 20  # differences listed per table; all are counted


class ViewRebuildCheck:
    """A `RebuildCheck` for one Postgres view."""

    def __init__(self, live: Projector) -> None:
        self.live = live
        self.name = f"view {live.schema.name}"

    def run(self, progress: Progress | None = None) -> Finding:
        live = self.live
        fresh = Projector(
            live.store,
            live.datastore,
            live.projection,
            live.schema,
            suffix=CHECK,
            batch_size=live.batch_size,
            durable=False,
        )
        with live.datastore.transaction(commit=True) as curs:
            for statement in views.POSITIONS_DDL:
                curs.execute(statement)
            views.drop_view(curs, live.schema, CHECK)
            views.create_view(curs, live.schema, CHECK)
        try:
            head, done = live.store.head(), 0

            def step(count: int) -> None:
                nonlocal done
                done += count
                if progress:
                    progress(done, max(head, done))

            fresh.catch_up(step)
            with live.datastore.transaction(commit=False) as curs:
                curs.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(live.schema.name),))
                position = _same_position(curs, live, fresh)
                details = [d for table in live.schema.tables for d in _compare(curs, table)]
        finally:
            with live.datastore.transaction(commit=True) as curs:
                views.drop_view(curs, live.schema, CHECK)
        if details:
            return Finding(self.name, False, f"differs at position {position}", details)
        return Finding(self.name, True, f"equal at position {position}")


def _same_position(curs: Cursor[DictRow], live: Projector, fresh: Projector) -> int:
    """Run both projectors until they stand at one position; that position."""
    while True:
        moved = live.run_batch(curs) + fresh.run_batch(curs)
        here = views.read_position(curs, live.view)
        if not moved and here == views.read_position(curs, fresh.view):
            return here


def _compare(curs: Cursor[DictRow], table: views.TableSchema) -> list[str]:
    on = SQL(" AND ").join(SQL("l.{0} = c.{0}").format(Identifier(column)) for column in table.key)
    curs.execute(
        SQL(
            "SELECT to_jsonb(l) AS live, to_jsonb(c) AS rebuilt, count(*) OVER () AS n"
            " FROM {} l FULL JOIN {} c ON {}"
            " WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(c) LIMIT %s"
        ).format(Identifier(table.name), Identifier(table.name + CHECK), on),
        (SHOWN,),
    )
    rows = curs.fetchall()
    if not rows:
        return []
    shown = [f"{table.name}: {_describe(row)}" for row in rows]
    return [f"{table.name}: {rows[0]['n']} rows differ", *shown]


def _describe(row: dict[str, Any]) -> str:
    if row["live"] is None:
        return f"only in the rebuilt view: {row['rebuilt']}"
    if row["rebuilt"] is None:
        return f"only in the live view: {row['live']}"
    changed = {
        k: (v, row["rebuilt"].get(k)) for k, v in row["live"].items() if row["rebuilt"].get(k) != v
    }
    return f"changed (live, rebuilt): {changed}"
