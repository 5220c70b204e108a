"""The vectorize step's rate against WordLlama's raw embed rate, on the same chunks.

Every httpd-docs page is fetched (from the file: no network), extracted and
chunked through the pipeline on a fresh database; then the vectorize step
runs over every URL on a cold vector cache (load the Url, read the text
blob, look the cache up, embed, fill the cache, store the vectors blob,
record `Vectorized`). The baseline embeds the same chunk texts with the
same embedder in the same batches (the chunks of the 16 URLs a worker
claims at once), nothing else; the two alternate batch by batch.
"""

from __future__ import annotations

import time
import uuid

from application.auth.principal import Caller
from application.ports import FetchRequest, FetchResult
from application.urls.pipeline import CHUNK, EXTRACT, Pipeline
from application.vectorization.vectorize import Job, Vectorizer
from bench import search_corpus as corpus
from bench.projection import trawl_on
from bench.report import Figure
from domain.chunks.splitter import ChunkSettings
from domain.urls.aggregate import Url
from infrastructure.blobs.local import LocalBlobStore
from infrastructure.embedding.registry import EmbedderRegistry
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from infrastructure.postgres.vector_cache import PostgresVectorCache

BATCH = 16  # URLs per vectorize claim, as the worker takes them


class FileFetcher:
    """Answers each URL with the corpus page of the same name."""

    def fetch(self, request: FetchRequest) -> FetchResult:
        body = corpus.page_file(request.url.rsplit("/", 1)[-1]).read_bytes()
        return FetchResult(200, request.url, "text/html", body, None, None, False, [])


def run(url: str, command: str) -> list[Figure]:
    with trawl_on(url) as trawl:
        owner = Caller.user(uuid.uuid4(), "user")
        project = trawl.projects.create(owner, "Bench").id
        names = sorted(p.name for p in corpus.PAGES.glob("*.html"))
        items = trawl.urls.add_many(owner, project, [f"https://httpd.example/{n}" for n in names])
        ids = [uuid.UUID(item["id"]) for item in items.extra["items"]]
        blobs = LocalBlobStore(trawl.settings.blob_path)
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
        embedders = EmbedderRegistry()
        embedder = embedders.get(corpus.MODEL)
        embedder.embed(texts[ids[0]])  # loaded and warm for both sides
        cache = PostgresVectorCache(trawl.search_projector.datastore)
        step = Vectorizer(trawl.store, blobs, embedders, cache)
        raw_seconds = step_seconds = 0.0
        # Interleaved batch by batch (the worker's batch of URLs, the same texts
        # on both sides), so drift in the machine's load favours neither.
        order = list(texts)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            started = time.perf_counter()
            embedder.embed([t for url_id in batch for t in texts[url_id]])
            raw_seconds += time.perf_counter() - started
            started = time.perf_counter()
            step.vectorize_many([Job(url_id, 1, corpus.MODEL) for url_id in batch])
            step_seconds += time.perf_counter() - started
        chunks = sum(len(t) for t in texts.values())
        raw, rate = chunks / raw_seconds, chunks / step_seconds
        recorded = sum(1 for u in ids if trawl.store.load(Url, u).vectors_for(corpus.MODEL))
    return [
        Figure(
            "search",
            "vectorize step rate (cold cache)",
            rate,
            "raw WordLlama embed",
            raw,
            "chunks/s",
            target=">= 80% of raw",
            passed=rate >= 0.8 * raw,
            command=command,
            details={"urls": len(ids), "vectorized": recorded, "chunks": chunks},
        )
    ]
