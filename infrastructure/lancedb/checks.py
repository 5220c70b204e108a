"""The audit's checks of the search index: rebuilt-equal, and deleted-gone.

`SearchRebuildCheck` (for `trawl rebuild --check`) replays the log into a
scratch generation of LanceDB tables (from the stored vectors: no embedder
is called), brings it to the live index's position under the live writer's
lock, and compares the two table by table: the same chunk ids, and for each
chunk the same checksum of (text, offsets, version, vector bytes). The
scratch tables and Postgres rows are dropped afterwards; nothing is swapped.

`SearchDeletionCheck` (for `trawl audit deletion-report`) counts the rows a
deleted project (or its URLs) still has in any live table: none, at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Identifier

from application.audit.ports import Finding, Progress
from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.projector import SearchProjector
from infrastructure.postgres import search_state
from infrastructure.postgres.projector import lock_id

CHECK = "__check"
SCRATCH_GENERATION_OFFSET = 1_000_000  # far from any live or rebuilt generation
SHOWN = 20


def _checksums(table: Any) -> dict[str, str]:
    """chunk id -> checksum of what a search hit shows, vector bytes included."""
    data = table.to_arrow().to_pylist()
    sums = {}
    for row in data:
        digest = hashlib.sha256()
        for field in ("url_id", "project_id", "text", "start", "end", "version", "ordinal"):
            digest.update(repr(row.get(field)).encode())
        vector = row.get("vector") or []
        digest.update(b"".join(float(x).hex().encode() for x in vector))
        sums[str(row["chunk_id"])] = digest.hexdigest()
    return sums


class SearchRebuildCheck:
    name = "search index"

    def __init__(self, live: SearchProjector) -> None:
        self.live = live

    def run(self, progress: Progress | None = None) -> Finding:
        live = self.live
        generation = live.generation() + SCRATCH_GENERATION_OFFSET
        fresh = SearchProjector(
            live.store,
            live.datastore,
            live.tables,
            live.blobs,
            suffix=CHECK,
            generation=generation,
            batch_size=live.batch_size,
        )
        self._drop_scratch(fresh, generation)
        fresh.setup()
        try:
            head, done = live.store.head(), 0

            def step(count: int) -> None:
                nonlocal done
                done += count
                if progress:
                    progress(done, max(head, done))

            fresh.catch_up(step)
            with live.datastore.get_connection() as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (lock_id(live.view),))
                try:
                    while live.run_batch(conn) > 0:  # the live index to the log's head
                        pass
                    while (count := fresh.run_batch(conn)) > 0:
                        step(count)
                    return self._compare(live.generation(), generation)
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id(live.view),))
        finally:
            self._drop_scratch(fresh, generation)

    def _compare(self, live_generation: int, scratch: int) -> Finding:
        tables = self.live.tables
        differences: list[str] = []
        compared = 0
        live_names = {n.rsplit("_g", 1)[0]: n for n in tables.names(live_generation)}
        fresh_names = {n.rsplit("_g", 1)[0]: n for n in tables.names(scratch)}
        for model in sorted(set(live_names) | set(fresh_names)):
            live_table = tables.get(live_names[model]) if model in live_names else None
            fresh_table = tables.get(fresh_names[model]) if model in fresh_names else None
            have = _checksums(live_table) if live_table is not None else {}
            want = _checksums(fresh_table) if fresh_table is not None else {}
            compared += len(want)
            for chunk in sorted(set(have) | set(want)):
                if have.get(chunk) != want.get(chunk):
                    what = (
                        "missing"
                        if chunk not in have
                        else "extra"
                        if chunk not in want
                        else "differs"
                    )
                    differences.append(f"{model}: chunk {chunk} {what}")
        if not differences:
            return Finding(self.name, True, f"{compared} chunks equal (ids and vector checksums)")
        shown = differences[:SHOWN]
        return Finding(self.name, False, f"{len(differences)} chunks differ", tuple(shown))

    def _drop_scratch(self, fresh: SearchProjector, generation: int) -> None:
        for name in fresh.tables.names(generation):
            fresh.tables.drop(name)
        with fresh.datastore.transaction(commit=True) as curs:
            for table in search_state.TABLES:
                curs.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table + CHECK)))
            curs.execute("DELETE FROM trawl_view_positions WHERE view = %s", (fresh.view,))


def _difference(chunk: str, have: dict[str, str], want: dict[str, str]) -> str:
    if chunk not in have:
        return "missing from the live index"
    if chunk not in want:
        return "in the live index only"
    return "differs"


class SearchDeletionCheck:
    name = "search index"

    def __init__(self, live: SearchProjector) -> None:
        self.live = live

    def run(self, project_id: UUID, url_ids: Sequence[UUID]) -> Finding:
        tables = self.live.tables
        left = []
        where = " OR ".join(
            [lance.project_filter(project_id), *(lance.url_filter(u) for u in url_ids)]
        )
        for name in tables.names(self.live.generation()):
            table = tables.get(name)
            count = table.count_rows(where) if table is not None else 0
            if count:
                left.append(f"{name}: {count} rows")
        if left:
            return Finding(self.name, False, "rows of the project are still indexed", tuple(left))
        return Finding(self.name, True, "no chunk of the project is in the index")
