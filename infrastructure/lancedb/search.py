"""The search read side: `SearchIndex` over the live LanceDB generation.

Queries are prefiltered by project (and URL), so a small project in a large
shared table still gets its k best chunks. Vector search is exact below the
ANN threshold (no vector index yet) and approximate above it; text search is
BM25 over the FTS index; hybrid fuses both with reciprocal rank fusion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from lancedb.rerankers import RRFReranker  # type: ignore[import-untyped]

from application.vectorization.ports import HYBRID, TEXT, Hit, Vectors
from infrastructure.lancedb import tables as lance

COLUMNS = ["chunk_id", "url_id", "url", "title", "text", "start", "end", "version", "ordinal"]


class LanceSearchIndex:
    def __init__(
        self,
        tables: lance.LanceTables,
        generation: Callable[[], int],
        model_counts: Callable[[UUID], dict[str, int]],
        *,
        nprobes: int = 20,
        ef: int = 64,
    ) -> None:
        self.tables = tables
        self.generation = generation
        self.model_counts = model_counts
        self.nprobes = nprobes
        self.ef = ef
        self._rrf = RRFReranker()

    def model_of(self, project_id: UUID, wanted: str) -> str:
        counts = self.model_counts(project_id)
        best = max(counts.values(), default=0)
        if counts.get(wanted, 0) >= best:
            return wanted
        # The switch to `wanted` is still under way: the model holding the most URLs answers.
        return max(counts, key=lambda model: counts[model])

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
        table = self.tables.get(lance.table_name(model_id, self.generation()))
        if table is None:
            return []
        where = lance.project_filter(project_id)
        if url_id is not None:
            where += " AND " + lance.url_filter(url_id)
        if mode == TEXT:
            found = table.search(query, query_type="fts")
            score = "_score"
        elif mode == HYBRID:
            found = table.search(query_type="hybrid").vector(vector).text(query).rerank(self._rrf)
            score = "_relevance_score"
        else:
            found = table.search(vector, vector_column_name="vector").distance_type("cosine")
            found = found.nprobes(self.nprobes).ef(self.ef)
            score = "_distance"
        rows = found.where(where, prefilter=True).select(COLUMNS).limit(k).to_list()
        return [_hit(row, score) for row in rows]


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
