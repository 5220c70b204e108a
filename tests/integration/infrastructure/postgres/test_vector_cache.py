"""The vector cache on real Postgres: exact float32 round trip, first write wins."""

from __future__ import annotations

import numpy as np
import pytest

from infrastructure.postgres.vector_cache import PostgresVectorCache
from interfaces.bootstrap import Trawl

pytestmark = pytest.mark.integration

MODEL = "wordllama/l2_supercat-256"


def test_vectors_come_back_exactly_and_the_first_write_of_a_text_wins(trawl: Trawl) -> None:
    assert trawl.search_projector is not None
    cache = PostgresVectorCache(trawl.search_projector.datastore)
    rng = np.random.default_rng(1)
    first = {f"h{i}": rng.normal(size=256).astype(np.float32) for i in range(200)}
    cache.put_many(MODEL, first)
    again = {"h0": np.zeros(256, dtype=np.float32), "h200": np.ones(256, dtype=np.float32)}
    cache.put_many(MODEL, again)  # a second worker embedded h0 too: no error, no overwrite

    found = cache.get_many(MODEL, [*first, "h200", "missing"])

    assert set(found) == {*first, "h200"}
    assert all(np.array_equal(found[h], first[h]) for h in first)
    assert np.array_equal(found["h200"], again["h200"])
    assert cache.get_many("bedrock/amazon.titan-embed-text-v2:0/256", ["h0"]) == {}
