"""The vectorize step: chunks -> vectors (cached by text hash) -> a blob -> `Vectorized`.

Chunk texts are slices of the extracted text (the chunk offsets). Only the
texts the cache does not know are embedded, in batches; every vector goes
into the cache, so re-chunking, refreshing to identical text or re-adding a
URL never pays the embedder twice. The blob is content-addressed, so a
repeated step stores nothing new. A stale step (the version or its chunks
changed, the URL was removed) records nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from application.ports import BlobNotFound, BlobStore
from application.store import NotFound, TrawlStore
from application.urls.pipeline import CHUNK, DONE, FAILED, RETRY, STALE, Next
from application.vectorization import vectors
from application.vectorization.ports import Embedders, EmbeddingFailed, VectorCache, Vectors
from domain.common import Context
from domain.urls import errors
from domain.urls.aggregate import Url, chunks_digest

logger = logging.getLogger(__name__)

VECTORIZE = "vectorize"
ACTOR = "system:worker"
RETRY_AFTER = timedelta(seconds=60)
_STALE = (errors.StaleVersion, errors.UrlRemoved, NotFound)


class Vectorizer:
    def __init__(
        self,
        store: TrawlStore,
        blobs: BlobStore,
        embedders: Embedders,
        cache: VectorCache,
        *,
        batch_size: int = 512,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.embedders = embedders
        self.cache = cache
        self.batch_size = batch_size
        self.clock = clock

    def vectorize(  # noqa: PLR0911 - each outcome is one early answer
        self, url_id: uuid.UUID, version: int, model_id: str
    ) -> Next:
        """Embed the version's chunks with `model_id` and record `Vectorized`."""
        try:
            url = self.store.load(Url, url_id)
            if not url.is_live or version != url.current_version:
                return Next(STALE, reason="StaleVersion")
            chunking = url.chunkings.get(version)
            if chunking is None:
                return Next(CHUNK, version)
            if url.vectors_for(model_id) is not None:
                return Next(DONE, version)  # a repeated job: already recorded
            text = self.blobs.get(url.texts[version].text_key).decode("utf-8", "surrogatepass")
        except NotFound:
            return Next(STALE, reason="NotFound")
        except BlobNotFound:
            logger.error("text blob missing for %s v%s", url_id, version)
            return Next(FAILED, version, reason="blob-missing")
        pieces = {c.text_hash: text[c.start : c.end] for c in chunking.chunks}
        try:
            known = self.vectors_of(model_id, pieces)
        except EmbeddingFailed as failure:
            logger.warning("embedding %s v%s failed: %s", url_id, version, failure.reason)
            if failure.transient:
                return Next(RETRY, version, at=self.clock() + RETRY_AFTER, reason="embedding")
            return Next(FAILED, version, reason="embedding")
        dims = self.embedders.get(model_id).dimensions
        rows = [known[c.text_hash] for c in chunking.chunks]
        matrix = np.stack(rows) if rows else np.zeros((0, dims), dtype=np.float32)
        ref = self.blobs.put(vectors.encode(matrix), kind=vectors.KIND)
        digest = chunks_digest(chunking)
        ctx = Context(ACTOR, uuid.uuid4().hex)

        loaded = [url]  # the first try records on the Url already loaded; a retry reloads

        def record() -> None:
            current = loaded.pop() if loaded else self.store.load(Url, url_id)
            if current.vectors_for(model_id) is None:
                current.record_vectors(ctx, version, model_id, dims, ref.key, digest)
                self.store.commit(current)

        try:
            self.store.retrying(record)
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        return Next(DONE, version)

    def vectors_of(self, model_id: str, texts: dict[str, str]) -> dict[str, Vectors]:
        """Vectors of texts by hash: from the cache, the rest embedded in batches and cached."""
        known = self.cache.get_many(model_id, list(texts))
        missing = [h for h in texts if h not in known]
        embedder = self.embedders.get(model_id)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            matrix = embedder.embed([texts[h] for h in batch])
            if matrix.shape != (len(batch), embedder.dimensions):
                raise EmbeddingFailed(f"{model_id}: {matrix.shape} vectors", transient=False)
            fresh = dict(zip(batch, matrix, strict=True))
            self.cache.put_many(model_id, fresh)
            known.update(fresh)
        return known
