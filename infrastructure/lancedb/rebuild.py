"""Rebuild the search index from the log and the stored vectors, then swap it in.

The next generation of LanceDB tables fills beside the live one (no
embedder is called: the vectors are blobs); search keeps answering from the
live generation meanwhile. The swap holds the live projector's advisory
lock: it applies the last events, then in one Postgres transaction makes
the new generation live (generation number, `trawl_search_urls`, position).
The old generation's tables are dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.projector import SearchProjector
from infrastructure.postgres import search_state, views
from infrastructure.postgres.projector import lock_id

REBUILD, OLD = "__rebuild", "__old"

# (events of the search topics read so far, the log position reached): the
# position is what moves toward the head in step with the work.
Report = Callable[[int, int], None]


def rebuild_search(live: SearchProjector, report: Report | None = None) -> int:
    """Rebuild the search view from position 0; the events read."""
    old = live.generation()
    fresh = SearchProjector(
        live.store,
        live.datastore,
        live.tables,
        live.blobs,
        suffix=REBUILD,
        generation=old + 1,
        batch_size=live.batch_size,
    )
    # Leftovers of an interrupted rebuild: the next generation it was filling,
    # or generations before the live one, swapped out but not dropped yet (the
    # live generation's tables serve; far higher ones are `--check` scratch).
    for name in live.tables.names():
        if (generation := lance.generation_of(name)) < old or generation == old + 1:
            live.tables.drop(name)
    with live.datastore.transaction(commit=True) as curs:
        for table in search_state.TABLES:
            curs.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table + REBUILD)))
        curs.execute("DELETE FROM trawl_view_positions WHERE view = %s", (fresh.view,))
        views.forget_parked(curs, fresh.view)  # an interrupted rebuild's
    fresh.setup()
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if report:
            report(done, fresh.position())

    fresh.catch_up(progress)
    for name in live.tables.names(old + 1):
        live.tables.maintain(name)  # indexed before it serves
    with live.datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_id(live.view),))
        try:
            while (count := fresh.run_batch(conn)) > 0:
                progress(count)
            with conn.transaction():
                _swap(conn.cursor(), live.view, fresh.view, old + 1)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id(live.view),))
    for name in live.tables.names(old):
        live.tables.drop(name)
    return done


def _swap(c: Cursor[DictRow], view: str, fresh_view: str, generation: int) -> None:
    position = views.read_position(c, fresh_view)
    for table in search_state.TABLES:
        c.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table + OLD)))
        c.execute(
            SQL("ALTER TABLE IF EXISTS {} RENAME TO {}").format(
                Identifier(table), Identifier(table + OLD)
            )
        )
        c.execute(
            SQL("ALTER TABLE {} RENAME TO {}").format(
                Identifier(table + REBUILD), Identifier(table)
            )
        )
        c.execute(SQL("DROP TABLE {}").format(Identifier(table + OLD)))
    c.execute(
        SQL("ALTER INDEX IF EXISTS {} RENAME TO {}").format(
            Identifier(f"{search_state.URLS}{REBUILD}_project"),
            Identifier(f"{search_state.URLS}_project"),
        )
    )
    c.execute(
        "UPDATE trawl_search_state SET generation = %s WHERE view = %s",
        (generation, search_state.VIEW),
    )
    c.execute("DELETE FROM trawl_view_positions WHERE view = %s", (fresh_view,))
    views.settle_parked(c, view, fresh_view)
    c.execute(
        "UPDATE trawl_view_positions SET position = %s, updated_at = now() WHERE view = %s",
        (position, view),
    )
    c.execute("SELECT pg_notify(%s, %s)", (views.CHANNEL, f"{view}:{position}"))
