"""Text search of a big project by over-fetching gives the prefiltered answer."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.search import COLUMNS
from infrastructure.lancedb.text_search import PREFILTER_ROWS, TextSearch

pytestmark = pytest.mark.integration

BIG, SMALL = uuid.UUID(int=1), uuid.UUID(int=2)
WORDS = ["harbour", "crane", "tide", "ferry", "dock", "quay", "buoy", "pier"]


def table(tmp_path: Path) -> Any:
    """BIG holds most rows; `lighthouse` is in three of BIG's rows and many of SMALL's."""
    rng = np.random.default_rng(3)
    owners = [BIG] * (PREFILTER_ROWS + 1000) + [SMALL] * 1000
    texts = [" ".join(rng.choice(WORDS, size=6)) for _ in owners]
    for row in (5, 50, 500, *range(len(owners) - 400, len(owners))):
        texts[row] += " lighthouse"
    n = len(owners)
    vectors = rng.normal(size=(n, 256)).astype(np.float32)
    data = pa.table(
        {
            "chunk_id": [str(uuid.UUID(int=1000 + i)) for i in range(n)],
            "project_id": [str(p) for p in owners],
            "url_id": [str(uuid.UUID(int=10 + i % 7)) for i in range(n)],
            "url": ["https://example.org/"] * n,
            "title": [None] * n,
            "ordinal": list(range(n)),
            "start": [0] * n,
            "end": [len(t) for t in texts],
            "version": [1] * n,
            "text": texts,
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), 256),
        },
        schema=lance.schema(256),
    )
    tables = lance.LanceTables(str(tmp_path))
    created = tables.create(lance.table_name("wordllama/l2_supercat-256", 1), 256)
    created.add(data)
    tables.ensure_indexes(created)
    return created


def scores(rows: list[dict[str, Any]]) -> list[float]:
    return [round(row["_score"], 5) for row in rows]


def test_a_big_projects_text_hits_are_those_of_the_prefilter(tmp_path: Path) -> None:
    found, search, where = table(tmp_path), TextSearch(COLUMNS), lance.project_filter(BIG)
    for query in ("harbour crane", "tide ferry dock", "lighthouse"):
        hits = search.search(found, where, query, 20)
        wanted = search._query(found, where, query, 20, prefilter=True)
        assert scores(hits) == scores(wanted)  # equal up to the order of ties
    rare = search.search(found, where, "lighthouse", 20)
    assert len(rare) == 3  # too few among the over-fetched rows: the prefilter answered
