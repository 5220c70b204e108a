"""Hybrid search's fusion: reciprocal ranks, the text ranking weighted."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.search import TEXT_WEIGHT, LanceSearchIndex

pytestmark = pytest.mark.unit

MODEL = "wordllama/l2_supercat-256"
DIMS = 8
PROJECT = uuid.uuid4()


def rows(texts: list[str], vectors: np.ndarray) -> pa.Table:
    n = len(texts)
    return pa.table(
        {
            "chunk_id": [str(uuid.UUID(int=i + 1)) for i in range(n)],
            "project_id": [str(PROJECT)] * n,
            "url_id": [str(uuid.UUID(int=1000 + i)) for i in range(n)],
            "url": [f"https://example.org/{i}" for i in range(n)],
            "title": [None] * n,
            "ordinal": [0] * n,
            "start": [0] * n,
            "end": [len(t) for t in texts],
            "version": [1] * n,
            "text": texts,
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.reshape(-1), type=pa.float32()), DIMS
            ),
        },
        schema=lance.schema(DIMS),
    )


@pytest.fixture
def tables(tmp_path: Path) -> lance.LanceTables:
    """Chunk 1 is the query's nearest vector and lacks its word; chunk 26 alone
    has the word and is the farthest vector, past the vector ranking's depth:
    each is first in one ranking and absent from the other."""
    rng = np.random.default_rng(1)
    query = np.eye(DIMS, dtype=np.float32)[0]
    near = query + rng.normal(scale=0.1, size=(24, DIMS)).astype(np.float32)
    vectors = np.vstack([query, near, -query]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"filler text number {i}" for i in range(25)] + ["the zebra crossing"]
    made = lance.LanceTables(str(tmp_path))
    table = made.create(lance.table_name(MODEL, 1), DIMS)
    table.add(rows(texts, vectors))
    made.ensure_indexes(table)
    return made


def first_hit(tables: lance.LanceTables, text_weight: float = TEXT_WEIGHT) -> uuid.UUID:
    index = LanceSearchIndex(tables, lambda: 1, lambda _: None, text_weight=text_weight)
    query = np.eye(DIMS, dtype=np.float32)[0]
    hits = index.search(PROJECT, MODEL, "zebra", query, 5, "hybrid")
    return hits[0].chunk_id


def test_the_text_ranking_outweighs_the_vector_ranking_at_equal_rank(
    tables: lance.LanceTables,
) -> None:
    assert first_hit(tables) == uuid.UUID(int=26)  # the text ranking's first, weighted 1.5


def test_with_equal_weights_a_tie_goes_to_the_vector_ranking(tables: lance.LanceTables) -> None:
    assert first_hit(tables, text_weight=1.0) == uuid.UUID(int=1)


def test_a_search_that_resolved_a_generation_a_rebuild_then_dropped_asks_the_live_one(
    tables: lance.LanceTables, tmp_path: Path
) -> None:
    """`trawl rebuild --view search` (another process) swaps generation 2 in and
    drops generation 1 while a search is between resolving and querying."""
    old = tables.get(lance.table_name(MODEL, 1))
    fresh = tables.create(lance.table_name(MODEL, 2), DIMS)
    fresh.add(old.to_arrow())
    tables.ensure_indexes(fresh)
    answers = iter([1, 1, 2])  # warm-up; the race: 1 resolved, then the swap

    def generation() -> int:
        return next(answers, 2)

    index = LanceSearchIndex(tables, generation, lambda _: None)
    query = np.eye(DIMS, dtype=np.float32)[0]
    before = index.search(PROJECT, MODEL, "zebra", query, 5, "hybrid")
    lance.LanceTables(str(tmp_path)).drop(lance.table_name(MODEL, 1))  # the rebuild's process

    after = index.search(PROJECT, MODEL, "zebra", query, 5, "hybrid")
    assert [hit.chunk_id for hit in after] == [hit.chunk_id for hit in before]
