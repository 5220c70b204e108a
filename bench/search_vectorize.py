"""The vectorize step's rate against WordLlama's raw embed rate, on the same chunks.

Every httpd-docs page is fetched (from the file: no network), extracted and
chunked through the pipeline on a fresh database; then the vectorize step
runs over every URL on a cold vector cache (load the Url, read the text
blob, look the cache up, embed, fill the cache, store the vectors blob,
record `Vectorized`), in claims of 16 URLs. The baseline embeds the same
chunk texts with the same embedder in the same batches, nothing else.

The step is measured as a worker with a backlog runs it: its claims go
through `Vectorizer.stream`, each read while the one before embeds and
committed while the one after embeds (the target's figure). Beside it, the
same claims one at a time (`vectorize_many`, nothing overlapped), as a
worker runs a lone claim. Each round takes fresh URLs (the cache emptied of
their texts), and raw embedding runs before and after each measured run:
each run is set against the mean of the two around it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import partial

from application.auth.principal import Caller
from application.ports import FetchRequest, FetchResult
from application.urls.pipeline import CHUNK, EXTRACT, Pipeline
from application.vectorization.vectorize import Job, Vectorizer
from bench import search_corpus as corpus
from bench.projection import trawl_on
from bench.report import Figure
from domain.chunks.splitter import ChunkSettings, text_hash
from domain.urls.aggregate import Url
from infrastructure.blobs.local import LocalBlobStore
from infrastructure.embedding.registry import EmbedderRegistry
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from infrastructure.postgres.vector_cache import PostgresVectorCache
from interfaces.bootstrap import Trawl

BATCH = 16  # URLs per vectorize claim, as the worker takes them
ROUNDS = 2  # of each way, alternating, on fresh URLs each time
STREAM, ALONE = "claims streamed", "one claim at a time"


class FileFetcher:
    """Answers each URL with the corpus page of the same name."""

    def fetch(self, request: FetchRequest) -> FetchResult:
        body = corpus.page_file(request.url.rsplit("/", 1)[-1]).read_bytes()
        return FetchResult(200, request.url, "text/html", body, None, None, False, [])


def chunked(trawl: Trawl, blobs: LocalBlobStore) -> dict[uuid.UUID, list[str]]:
    """Every corpus page added to a fresh project and chunked: each URL's chunk texts."""
    owner = Caller.user(uuid.uuid4(), "user")
    project = trawl.projects.create(owner, "Bench").id
    names = sorted(p.name for p in corpus.PAGES.glob("*.html"))
    items = trawl.urls.add_many(owner, project, [f"https://httpd.example/{n}" for n in names])
    ids = [uuid.UUID(item["id"]) for item in items.extra["items"]]
    pipeline = Pipeline(trawl.store, FileFetcher(), TrafilaturaExtractor(), blobs)
    for url_id in ids:
        outcome = pipeline.fetch(url_id, uuid.uuid4(), 1)
        while outcome.step in (EXTRACT, CHUNK) and outcome.version is not None:
            if outcome.step == EXTRACT:
                outcome = pipeline.extract(url_id, outcome.version)
            else:
                outcome = pipeline.chunk(url_id, outcome.version, ChunkSettings())
    texts: dict[uuid.UUID, list[str]] = {}
    for url_id in ids:
        found = trawl.store.load(Url, url_id)
        if found.chunking is not None and found.text is not None:
            text = blobs.get(found.text.text_key).decode()
            texts[url_id] = [text[c.start : c.end] for c in found.chunking.chunks]
    return texts


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _vectorize(step: Vectorizer, claims: list[list[Job]], *, streamed: bool) -> None:
    """Vectorize the claims: streamed, or one `vectorize_many` each."""
    if streamed:
        list(step.stream(enumerate(claims)))
    else:
        for claim in claims:
            step.vectorize_many(claim)


def run(url: str, command: str) -> list[Figure]:
    with trawl_on(url) as trawl:
        embedders = EmbedderRegistry()
        embedder = embedders.get(corpus.MODEL)
        assert trawl.search_projector is not None
        cache = PostgresVectorCache(trawl.search_projector.datastore)
        # Each round its own blob directory: no vectors blob is found already
        # written (they are content-addressed), every text read is cold.
        stores = [
            LocalBlobStore(trawl.settings.data_path / f"blobs-{n}") for n in range(2 * ROUNDS)
        ]
        rounds = [chunked(trawl, blobs) for blobs in stores]
        first = rounds[0]
        embedder.embed(next(iter(first.values())))  # loaded and warm for both sides
        hashes = list({text_hash(t) for texts in rounds for ts in texts.values() for t in ts})

        def claims(texts: dict[uuid.UUID, list[str]]) -> list[list[Job]]:
            jobs = [Job(url_id, 1, corpus.MODEL) for url_id in texts]
            return [jobs[start : start + BATCH] for start in range(0, len(jobs), BATCH)]

        def raw() -> float:  # the same chunks in the same batches, embedding alone
            batches = [[t for job in claim for t in first[job.url_id]] for claim in claims(first)]
            return _timed(lambda: [embedder.embed(batch) for batch in batches])

        chunks = sum(len(t) for t in first.values())
        runs: dict[str, list[tuple[float, float]]] = {STREAM: [], ALONE: []}
        before = raw()
        for number, (texts, blobs) in enumerate(zip(rounds, stores, strict=True)):
            cache.forget(hashes)  # cold: every text of the round is embedded
            kind = STREAM if number % 2 == 0 else ALONE
            step = Vectorizer(trawl.store, blobs, embedders, cache)
            seconds = _timed(partial(_vectorize, step, claims(texts), streamed=kind == STREAM))
            after = raw()
            runs[kind].append((seconds, (before + after) / 2))
            before = after
        recorded = sum(
            1
            for texts in rounds
            for url_id in texts
            if trawl.store.load(Url, url_id).vectors_for(corpus.MODEL) is not None
        )
    rates = {  # chunks/s of the step and of the raw embedding around it, over the runs
        kind: (
            chunks * len(pairs) / sum(s for s, _ in pairs),
            chunks * len(pairs) / sum(r for _, r in pairs),
        )
        for kind, pairs in runs.items()
    }
    details = {
        "urls per round": len(first),
        "chunks per round": chunks,
        "vectorized": recorded,
        "ratio per run": {
            kind: [round(r / s, 3) for s, r in pairs] for kind, pairs in runs.items()
        },
    }
    rate, baseline = rates[STREAM]
    alone, alone_baseline = rates[ALONE]
    return [
        Figure(
            "search",
            "vectorize step rate (cold cache, claims streamed)",
            rate,
            "raw WordLlama embed",
            baseline,
            "chunks/s",
            target=">= 80% of raw",
            passed=rate >= 0.8 * baseline,
            command=command,
            details=details,
        ),
        Figure(
            "search",
            "vectorize step rate (cold cache, one claim at a time)",
            alone,
            "raw WordLlama embed",
            alone_baseline,
            "chunks/s",
            command=command,
        ),
    ]
