"""Where a prefiltered search spends its time, on the table `bench/search.py` built.

The same queries as the latency figures: vector and text search without the
project filter (the prefilter's cost is the difference), counting the
project's rows (the filter's own lookup), and the ANN's probes: p50 and
recall@10 against exact search for a few `nprobes` values, with the
product's re-ranking of 2 x k candidates on the stored vectors and without.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from infrastructure.lancedb.search import COLUMNS

PROBES = (10, 20, 40)


def _p50(run: Callable[[Any, str], Any], qvecs: Any, qtexts: list[str]) -> float:
    samples = []
    for q, text in zip(qvecs, qtexts, strict=True):
        started = time.perf_counter()
        run(q, text)
        samples.append(time.perf_counter() - started)
    return round(float(np.percentile(samples, 50)) * 1000, 2)


def profile(
    table: Any, where: str, qvecs: Any, qtexts: list[str], exact: list[set[uuid.UUID]]
) -> dict[str, Any]:
    def vector(q: Any, nprobes: int = 10, filtered: bool = True, refine: int = 2) -> Any:
        search = table.search(q, vector_column_name="vector").distance_type("cosine")
        search = search.nprobes(nprobes).ef(64)
        if refine:
            search = search.refine_factor(refine)
        if filtered:
            search = search.where(where, prefilter=True)
        return search.select([*COLUMNS, "_distance"]).limit(20).to_list()

    def text(query: str) -> Any:
        return (
            table.search(query, query_type="fts").select([*COLUMNS, "_score"]).limit(20).to_list()
        )

    found: dict[str, Any] = {
        "vector unfiltered p50 ms": _p50(lambda q, t: vector(q, filtered=False), qvecs, qtexts),
        "text unfiltered p50 ms": _p50(lambda q, t: text(t), qvecs, qtexts),
        "count project rows p50 ms": _p50(lambda q, t: table.count_rows(where), qvecs, qtexts),
    }
    for nprobes, refine in [(n, 2) for n in PROBES] + [(10, 0)]:
        recalls = [
            len({uuid.UUID(r["chunk_id"]) for r in vector(q, nprobes, refine=refine)[:10]} & want)
            / 10
            for q, want in zip(qvecs, exact, strict=True)
        ]
        label = f"refine {refine}" if refine else "no refine"
        found[f"vector nprobes {nprobes}, {label}: p50 ms, recall@10"] = [
            _p50(lambda q, t, n=nprobes, r=refine: vector(q, n, refine=r), qvecs, qtexts),
            round(float(np.mean(recalls)), 3),
        ]
    return found
