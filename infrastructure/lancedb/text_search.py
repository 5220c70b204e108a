"""Full-text search of one project in a shared table: prefiltered, or over-fetched.

LanceDB answers an FTS query with a prefilter by walking the filter's
allow-list, so its cost grows with the project's rows: ~90 ms for a project
of 50k rows in a 1M-row table, against ~13 ms for the same query unfiltered
(docs/benchmarks.md). For a project holding a large share of the table,
asking for the best `limit / share * OVERFETCH` rows of the whole table and
keeping the project's is cheaper, and whenever at least `limit` of them are
the project's it is exactly the prefiltered answer (BM25 scores use the
table's statistics either way). When fewer come back, the prefilter answers.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

PREFILTER_ROWS = 5_000  # below this many rows the allow-list walk costs ~10 ms: keep it
MAX_FETCH = 1_000  # past this many rows the unfiltered top-k costs about as much as the walk
OVERFETCH = 2.0  # twice the rows the project's share predicts: rarely too few
SHARE_SECONDS = 60.0  # a share this old is counted again (a stale one costs time, never hits)
_MAX_SHARES = 10_000


class TextSearch:
    """BM25 search of the rows matching a filter, by the cheaper of two plans."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = [*columns, "_score"]
        self._shares: dict[tuple[str, str], tuple[float, int, float]] = {}
        self._lock = threading.Lock()

    def search(self, table: Any, where: str, query: str, limit: int) -> list[dict[str, Any]]:
        """The best `limit` rows matching `where` for `query`, best first."""
        rows, share = self._size(table, where)
        fetch = math.ceil(limit / share * OVERFETCH) if share > 0 else math.inf
        if rows >= PREFILTER_ROWS and fetch <= MAX_FETCH:
            found = self._query(table, where, query, int(fetch), prefilter=False)
            if len(found) >= limit:
                return found[:limit]
        return self._query(table, where, query, limit, prefilter=True)

    def _query(
        self, table: Any, where: str, query: str, limit: int, *, prefilter: bool
    ) -> list[dict[str, Any]]:
        found = (
            table.search(query, query_type="fts")
            .where(where, prefilter=prefilter)
            .select(self.columns)
            .limit(limit)
        )
        return list(found.to_list())

    def _size(self, table: Any, where: str) -> tuple[int, float]:
        """The filter's rows and their share of the table (counted once a minute)."""
        key, now = (table.name, where), time.monotonic()
        with self._lock:
            known = self._shares.get(key)
        if known is not None and now - known[0] < SHARE_SECONDS:
            return known[1], known[2]
        rows, total = table.count_rows(where), table.count_rows()
        share = rows / total if total else 0.0
        with self._lock:
            if len(self._shares) >= _MAX_SHARES:
                self._shares.clear()
            self._shares[key] = (now, rows, share)
        return rows, share
