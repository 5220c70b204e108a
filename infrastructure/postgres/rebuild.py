"""Rebuild a view from the whole log into fresh tables, then swap them in.

Blue/green: the new tables (suffix `__rebuild`) fill while the live view
keeps serving and following. To finish, one transaction takes the view's
advisory lock (the live projector pauses), applies the last events, renames
live -> `__old`, new -> live, moves the position and drops the old tables.
Queries see either the old or the new view, never a half-built one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from infrastructure.postgres import read_ahead, views
from infrastructure.postgres.batches import run_together
from infrastructure.postgres.projector import Projector

REBUILD = "__rebuild"
OLD = "__old"

Report = Callable[[int, int], None]  # (events read so far, events to read)
# Rows per view a rebuild keeps in memory (~0.5-1 KB each) before writing
# them: each row is written once per fill of the cache, by COPY the first time.
CACHE_ROWS = 100_000
# Events per rebuild batch: with rows deferred, a batch costs a few statements
# per view, so larger batches mean fewer of them (and shorter lock pauses in all).
BATCH = 10_000


def rebuild(live: Projector, report: Report | None = None, batch_size: int = BATCH) -> int:
    """Rebuild `live`'s view from position 0; returns the events read."""
    return rebuild_all([live], report, batch_size)


def rebuild_all(
    lives: Sequence[Projector], report: Report | None = None, batch_size: int = BATCH
) -> int:
    """Rebuild several views in one pass over the log: each event is read and
    decoded once, and applied to every fresh view that wants it. Returns the
    events read."""
    fresh = [
        Projector(
            live.store,
            live.datastore,
            live.projection,
            live.schema,
            suffix=REBUILD,
            batch_size=batch_size,
            durable=False,
            cache_rows=CACHE_ROWS,
            deferred=True,
        )
        for live in lives
    ]
    datastore = lives[0].datastore
    with datastore.transaction(commit=True) as curs:
        for statement in views.POSITIONS_DDL:
            curs.execute(statement)
        for live in lives:
            views.drop_view(curs, live.schema, REBUILD)
            # What an interrupted rebuild parked is parked again, or applied, now.
            views.forget_parked(curs, live.view + REBUILD)
            views.create_view(curs, live.schema, REBUILD, indexes=False)
    head = lives[0].store.head()
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if report:
            report(done, max(head, done))

    read_ahead.catch_up(fresh, batch_size, progress)
    with datastore.transaction(commit=True) as curs:
        for new in fresh:
            new.write_deferred(curs)
            # Built once over the full tables: cheaper than kept up row by row.
            views.create_indexes(curs, new.schema, REBUILD)
    with datastore.transaction(commit=True) as curs:
        # run_together takes every view's lock (live projectors pause) until the swap.
        while (count := run_together(curs, fresh, batch_size).count) > 0:
            progress(count)
        for live, new in zip(lives, fresh, strict=True):
            new.write_deferred(curs)
            _swap(curs, live, new)
    return done


def _swap(curs: Cursor[DictRow], live: Projector, fresh: Projector) -> None:
    schema = live.schema
    position = views.read_position(curs, fresh.view)
    for table in schema.tables:
        names = {s: Identifier(table.name + s) for s in ("", REBUILD, OLD)}
        curs.execute(SQL("DROP TABLE IF EXISTS {}").format(names[OLD]))
        curs.execute(
            SQL("ALTER TABLE IF EXISTS {} RENAME TO {}").format(
                names[""], Identifier(table.name + OLD)
            )
        )
        curs.execute(
            SQL("ALTER TABLE {} RENAME TO {}").format(names[REBUILD], Identifier(table.name))
        )
        curs.execute(SQL("DROP TABLE IF EXISTS {}").format(names[OLD]))
        _rename_indexes(curs, table)
    curs.execute("DELETE FROM trawl_view_positions WHERE view = %s", (fresh.view,))
    views.settle_parked(curs, schema.name, fresh.view)
    curs.execute(
        "INSERT INTO trawl_view_positions (view, position, shape) VALUES (%s, %s, %s)"
        " ON CONFLICT (view) DO UPDATE SET position = EXCLUDED.position,"
        " shape = EXCLUDED.shape, updated_at = now()",
        (schema.name, position, schema.shape),
    )
    curs.execute("SELECT pg_notify(%s, %s)", (views.CHANNEL, f"{schema.name}:{position}"))


def _rename_indexes(curs: Cursor[DictRow], table: views.TableSchema) -> None:
    curs.execute(
        SQL("ALTER INDEX IF EXISTS {} RENAME TO {}").format(
            Identifier(f"{table.name}{REBUILD}_pkey"), Identifier(f"{table.name}_pkey")
        )
    )
    for number, _ in enumerate(table.indexes):
        curs.execute(
            SQL("ALTER INDEX IF EXISTS {} RENAME TO {}").format(
                Identifier(f"{table.name}{REBUILD}_ix{number}"),
                Identifier(f"{table.name}_ix{number}"),
            )
        )
