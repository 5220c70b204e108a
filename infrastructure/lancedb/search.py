"""The search read side: `SearchIndex` over the live LanceDB generation.

Queries are prefiltered by project (and URL), so a small project in a large
shared table still gets its k best chunks. Vector search is exact below the
ANN threshold (no vector index yet) and approximate above it; text search is
BM25 over the FTS index (prefiltered for small projects, over-fetched and
filtered for large ones: `text_search`); hybrid fuses the two rankings (each
k deep, as LanceDB's own hybrid query takes them) with reciprocal rank
fusion, the text ranking weighted 1.5x, computed here so the weights are
ours.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from application.vectorization.ports import HYBRID, TEXT, Hit, Vectors
from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.text_search import TextSearch

RRF_K = 60  # the usual constant of reciprocal rank fusion
# The text ranking counts 1.5x the vector ranking in the fusion: with equal
# weights hybrid ranked the target page first less often than BM25 alone (MRR
# 0.718 against 0.732 on the bench's 50 queries). Chosen on those 50, then
# checked on 46 held-out queries: 0.823 against text 0.815 and 0.780 with equal
# weights (docs/benchmarks.md).
TEXT_WEIGHT = 1.5
COLUMNS = ["chunk_id", "url_id", "url", "title", "text", "start", "end", "version", "ordinal"]


class LanceSearchIndex:
    def __init__(
        self,
        tables: lance.LanceTables,
        generation: Callable[[], int],
        answering: Callable[[UUID], str | None],
        *,
        nprobes: int = 10,
        ef: int = 64,
        refine: int = 2,
        text_weight: float = TEXT_WEIGHT,
    ) -> None:
        self.tables = tables
        self.generation = generation
        self.answering = answering
        # IVF partitions searched (~4k rows each: 244 at 1M rows). At 1M, 10
        # probes gave recall@10 0.978 against exact search in 9.3 ms, 20 gave
        # 0.99 in 11.0: hybrid pays for both halves, so 10 (docs/benchmarks.md).
        self.nprobes = nprobes
        self.ef = ef
        # The ANN index's distances are of quantized (SQ) vectors: re-ranking
        # `refine` x k candidates on the stored vectors took recall@10 at 1M rows
        # from 0.94 to 0.97 for ~1 ms (docs/benchmarks.md).
        self.refine = refine
        self.text_weight = text_weight  # the text ranking's weight in the fusion (vector: 1)
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="search-text")
        self._text_search = TextSearch(COLUMNS)

    def model_of(self, project_id: UUID, wanted: str) -> str:
        # The projection says which model's table is complete for the project;
        # nothing indexed yet: the project's own model.
        return self.answering(project_id) or wanted

    def search(
        self,
        project_id: UUID,
        model_id: str,
        query: str,
        vector: Vectors | None,
        k: int,
        mode: str,
        url_id: UUID | None = None,
    ) -> list[Hit]:
        """The best `k` chunks of the project. A rebuild drops the old
        generation's tables right after it swaps the next one in: a search that
        resolved the old generation just before finds its table gone, and asks
        the live one instead."""
        where = lance.project_filter(project_id)
        if url_id is not None:
            where += " AND " + lance.url_filter(url_id)

        def ranked(generation: int) -> list[Hit] | None:  # None: no such table
            table = self.tables.get(lance.table_name(model_id, generation))
            return None if table is None else self._ranked(table, where, query, vector, k, mode)

        generation = self.generation()
        try:
            found = ranked(generation)
        except Exception:
            live = self.generation()
            if live == generation:
                raise
            return ranked(live) or []
        if found is None and (live := self.generation()) != generation:
            return ranked(live) or []
        return found or []

    def _ranked(
        self, table: Any, where: str, query: str, vector: Vectors | None, k: int, mode: str
    ) -> list[Hit]:
        """The table's hits in the query's mode."""
        if mode == HYBRID:
            return self._hybrid(table, where, query, vector, k)
        if mode == TEXT:
            return [_hit(row, "_score") for row in self._text(table, where, query, k)]
        return [_hit(row, "_distance") for row in self._vector(table, where, vector, k)]

    def _vector(self, table: Any, where: str, vector: Any, limit: int) -> list[dict[str, Any]]:
        found = (
            table.search(vector, vector_column_name="vector")
            .distance_type("cosine")
            .nprobes(self.nprobes)
            .ef(self.ef)
            .refine_factor(self.refine)
            .where(where, prefilter=True)
            .select([*COLUMNS, "_distance"])
            .limit(limit)
        )
        return list(found.to_list())

    def _text(self, table: Any, where: str, query: str, limit: int) -> list[dict[str, Any]]:
        return self._text_search.search(table, where, query, limit)

    def _hybrid(self, table: Any, where: str, query: str, vector: Any, k: int) -> list[Hit]:
        """Reciprocal rank fusion of the vector and text rankings (text weighted).

        Each ranking is k deep: deeper lists (20 for k=10) ranked the bench's
        queries no better (MRR 0.783 against 0.785) and cost 20% more at 1M
        rows, the text search over-fetching twice the rows (docs/benchmarks.md).
        The two searches run at once (LanceDB releases the GIL).
        """
        text = self._pool.submit(self._text, table, where, query, k)
        by_vector = self._vector(table, where, vector, k)
        fused: dict[str, float] = {}
        rows: dict[str, dict[str, Any]] = {}
        for weight, ranking in ((1.0, by_vector), (self.text_weight, text.result())):
            for rank, row in enumerate(ranking, 1):
                fused[row["chunk_id"]] = fused.get(row["chunk_id"], 0.0) + weight / (RRF_K + rank)
                rows.setdefault(row["chunk_id"], row)
        best = sorted(fused, key=lambda chunk: -fused[chunk])[:k]
        return [_hit({**rows[c], "_rrf": fused[c]}, "_rrf") for c in best]


def _hit(row: dict[str, Any], score: str) -> Hit:
    value = float(row[score])
    return Hit(
        chunk_id=UUID(row["chunk_id"]),
        url_id=UUID(row["url_id"]),
        url=row["url"],
        title=row["title"],
        text=row["text"],
        score=1.0 - value if score == "_distance" else value,  # cosine similarity
        start=int(row["start"]),
        end=int(row["end"]),
        version=int(row["version"]),
        ordinal=int(row["ordinal"]),
    )
