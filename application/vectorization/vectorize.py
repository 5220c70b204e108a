"""The vectorize step: chunks -> vectors (cached by text hash) -> a blob -> `Vectorized`.

Chunk texts are slices of the extracted text (the chunk offsets). Only the
texts the cache does not know are embedded, in batches; every vector goes
into the cache, so re-chunking, refreshing to identical text or re-adding a
URL never pays the embedder twice. The blob is content-addressed, so a
repeated step stores nothing new. A stale step (the version or its chunks
changed, the URL was removed) records nothing.

Several URLs are vectorized together (`vectorize_many`): one load of their
events, one cache lookup and one commit for all of them, so the fixed costs
of the step do not dwarf the embedding of a small page. The batch is then
embedded in groups of about `GROUP_TEXTS` texts, and each group's vectors
blobs are written (each with its fsync, or an S3 round trip) on a small
thread pool while the next group is embedded; the last URL is a group of its
own, so the one write nothing can hide is short. The batch's new vectors go
to the cache in one write per model, on the same pool, after its last group.
At ~2,000-2,800 chunks/s of raw embedding, the blob writes' waits were a
third of the step when they followed the embedding (docs/benchmarks.md).

A worker with a backlog runs its claims through `stream`: each batch is read
(URLs, texts, cache) while the batch before it is embedded, and committed
while the batch after it is, so between two batches the embedder waits on
no query, file or commit. There a batch is embedded in one call per model,
not in groups: its blob writes hide behind the next batch's embedding, and
fewer, fuller calls embed faster beside the other threads (0.79x of raw
against 0.75x in ten alternating runs, docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import random
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar

import numpy as np
from eventsourcing.persistence import IntegrityError

from application.ports import BlobNotFound, BlobRef, BlobStore
from application.store import NotFound, TrawlStore
from application.urls.pipeline import CHUNK, DONE, FAILED, RETRY, STALE, Next
from application.vectorization import vectors
from application.vectorization.ports import Embedders, EmbeddingFailed, VectorCache, Vectors
from domain.common import Context
from domain.projects.aggregate import Project
from domain.urls import errors
from domain.urls.aggregate import Url, chunks_digest
from domain.urls.values import EMBEDDING_FAILED, Chunking, retry_delay

logger = logging.getLogger(__name__)

VECTORIZE = "vectorize"
ACTOR = "system:worker"
_STALE = (errors.StaleVersion, errors.UrlRemoved, NotFound)
# A batch's text reads, blob writes and cache writes run here (each waits on I/O).
_IO = ThreadPoolExecutor(4, thread_name_prefix="vectorize-io")
# Chunks per embedder call within a batch: a group's vectors blobs are written
# (fsync) while the next group is embedded, not all after the last.
GROUP_TEXTS = 64


CURRENT = 0  # a job's version: the URL's current one, whichever (a model change's jobs)


class Job(NamedTuple):
    url_id: uuid.UUID
    version: int  # or CURRENT
    model_id: str | None  # None: the model its project is set to now
    attempt: int = 1  # a transient embedding failure waits longer each attempt (up to 1 h)


class _Ready(NamedTuple):
    url: Url
    model_id: str  # the job's, or its project's
    chunking: Chunking
    pieces: dict[str, str]  # text hash -> chunk text


class _Batch(NamedTuple):
    """A batch read: what each job embeds, and the answers known already."""

    jobs: list[Job]  # versions resolved
    answers: dict[int, Next]  # by job number: nothing to embed
    ready: dict[int, _Ready]  # by job number: to embed (or from the cache)
    known: dict[str, dict[str, Vectors]]  # by model: vectors by text hash


class _Embedded(NamedTuple):
    """A batch embedded: refusals, and the cache and vectors blob writes under way."""

    failures: dict[int, EmbeddingFailed]
    caching: list[Future[None]]
    writes: dict[int, Future[BlobRef]]


class _Recorded(NamedTuple):
    number: int  # the job's place in the batch
    model_id: str
    key: str  # the vectors blob
    digest: str
    dims: int


class _Refused(NamedTuple):
    number: int
    model_id: str


def groups(sizes: dict[int, int], limit: int = GROUP_TEXTS) -> list[list[int]]:
    """Jobs (by number, with the count of texts each embeds) in order, cut into
    groups of at least `limit` texts, but for the last two, which may hold
    fewer: when there is more than one group, the last job is a group of its
    own, as its vectors blob is written after the last embedding, where
    nothing hides the write."""
    numbers = list(sizes)
    if sum(sizes.values()) <= limit:
        return [numbers] if numbers else []
    cut: list[list[int]] = [[]]
    for number in numbers[:-1]:
        cut[-1].append(number)
        if sum(sizes[n] for n in cut[-1]) >= limit:
            cut.append([])
    return [group for group in cut if group] + [numbers[-1:]]


K = TypeVar("K")
Answers = list[Next] | Exception  # a batch's answers, or what stopped it


def _answers(finishing: Future[list[Next]]) -> Answers:
    try:
        return finishing.result()
    except Exception as error:  # noqa: BLE001 - the batch's answer
        return error


def _carry(batch: _Batch, carried: dict[str, dict[str, Vectors]]) -> _Batch:
    """The batch, with the vectors `carried` (by model) holds of its texts known."""
    for item in batch.ready.values():
        theirs = carried.get(item.model_id, {})
        ours = batch.known.setdefault(item.model_id, {})
        ours.update({h: theirs[h] for h in item.pieces if h in theirs})
    return batch


def _resolved(job: Job, url: Url | None) -> Job:
    """The job with its version: CURRENT becomes the URL's current version."""
    if job.version != CURRENT or url is None:
        return job
    return job._replace(version=url.current_version or CURRENT)


def _done(url: Url, model: str, version: int) -> Next | None:
    """The answer to a repeated job, or None: there is work to do.

    Held vectors of a URL another model refused are recorded again (from the
    cache): a switch back to this model makes the URL vectorized."""
    if url.vectors_for(model) is not None and url.refused_by is None:
        return Next(DONE, version)  # already recorded
    if url.refusing_model == model:
        return Next(FAILED, version, reason=EMBEDDING_FAILED)  # already refused
    return None


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

    def vectorize(self, url_id: uuid.UUID, version: int, model_id: str) -> Next:
        """Embed the version's chunks with `model_id` and record `Vectorized`."""
        return self.vectorize_many([Job(url_id, version, model_id)])[0]

    def vectorize_many(self, jobs: Sequence[Job]) -> list[Next]:
        """Several URLs at once; one answer per job, in order.

        The URLs are loaded in one query and the cache is asked once; then the
        batch is embedded in groups (`groups`), each group's vectors blobs
        written while the next is embedded; the commit waits for every blob.
        """
        batch = self._read(jobs)
        return self._finish(batch, self._embed_batch(batch))

    def stream(self, batches: Iterable[tuple[K, Sequence[Job]]]) -> Iterator[tuple[K, Answers]]:
        """Batches one after another, as a worker claims them: (key, jobs) in,
        (key, the answers or the exception that stopped the batch) out, in order.

        Each batch is read (its URLs, texts, cached vectors) while the batch
        before it is embedded, and recorded and committed while the batch after
        it is, so the embedder waits on no query, file or commit between
        batches; each batch is embedded in one call per model (its blob writes
        finish while the next one embeds). Vectors of the batch before, not
        yet in the cache when this one asked it, count as known: no text is
        embedded twice. `batches` is pulled one ahead, on another thread (a
        worker's next claim happens while a batch embeds), never by two
        threads at once.
        """
        pending = iter(batches)
        carried: dict[str, dict[str, Vectors]] = {}  # the last batch's vectors, by model
        finishing: tuple[K, Future[list[Next]]] | None = None
        with ThreadPoolExecutor(2, thread_name_prefix="vectorize-stage") as stages:
            reading = stages.submit(self._read_next, pending)
            while (read := reading.result()) is not None:
                key, batch = read
                reading = stages.submit(self._read_next, pending)
                if not isinstance(batch, Exception):
                    try:
                        embedded = self._embed_batch(_carry(batch, carried), grouped=False)
                    except Exception as error:  # noqa: BLE001 - the batch's answer
                        batch = error
                if finishing is not None:  # the batch before, committed meanwhile
                    yield finishing[0], _answers(finishing[1])
                    finishing = None
                if isinstance(batch, Exception):
                    yield key, batch
                    continue
                carried = batch.known
                finishing = (key, stages.submit(self._finish, batch, embedded))
            if finishing is not None:
                yield finishing[0], _answers(finishing[1])

    def _read_next(
        self, pending: Iterator[tuple[K, Sequence[Job]]]
    ) -> tuple[K, _Batch | Exception] | None:
        """The next batch (for a worker: its next claim) read, or None: no more."""
        upcoming = next(pending, None)
        if upcoming is None:
            return None
        key, jobs = upcoming
        try:
            return key, self._read(jobs)
        except Exception as error:  # noqa: BLE001 - the batch's answer
            return key, error

    def _read(self, jobs: Sequence[Job]) -> _Batch:
        """The batch's URLs (one query), texts (read at once) and cached vectors
        (one lookup per model): what is left to embed, or the answer already."""
        answers: dict[int, Next] = {}
        ready: dict[int, _Ready] = {}
        models: dict[uuid.UUID, str] = {}  # by project: each loaded once per batch
        known: dict[str, dict[str, Vectors]] = {}  # by model: the batch's vectors so far
        urls = self.store.load_many(Url, [job.url_id for job in jobs])  # one query
        jobs = [_resolved(job, urls.get(job.url_id)) for job in jobs]
        # The text reads of a batch at once: each waits on a file (or an S3 round trip).
        preparing = _IO.map(lambda job: self._prepare(job, urls.get(job.url_id), models), jobs)
        for number, found in enumerate(preparing):
            if isinstance(found, Next):
                answers[number] = found
            else:
                ready[number] = found
        for model in dict.fromkeys(item.model_id for item in ready.values()):
            hashes = {h for item in ready.values() if item.model_id == model for h in item.pieces}
            known[model] = self.cache.get_many(model, list(hashes))
        return _Batch(jobs, answers, ready, known)

    def _embed_batch(self, batch: _Batch, *, grouped: bool = True) -> _Embedded:
        """Embed what the batch lacks, group by group (`grouped`) or in one call
        per model, its blob writes started; then the cache write of all its
        new vectors, one per model (each write is a Postgres transaction, on
        the cores the embedder uses)."""
        embedded = _Embedded({}, [], {})
        fresh: dict[str, dict[str, Vectors]] = {}  # by model: the vectors embedded
        sizes = {  # texts each job has to embed
            n: sum(h not in batch.known.get(item.model_id, {}) for h in item.pieces)
            for n, item in batch.ready.items()
        }
        try:
            for group in groups(sizes, GROUP_TEXTS if grouped else sys.maxsize):
                self._embed_group(group, batch.ready, batch.known, embedded, fresh)
        finally:  # what was embedded is cached, even when a later group crashed
            for model, vectors_of in fresh.items():
                embedded.caching.append(_IO.submit(self.cache.put_many, model, vectors_of))
        return embedded

    def _finish(self, batch: _Batch, embedded: _Embedded) -> list[Next]:
        """Record each job's outcome and commit, once its vectors blobs are written."""
        answers = dict(batch.answers)
        ready = dict(batch.ready)
        ctx = Context(ACTOR, uuid.uuid4().hex)
        changed, recorded = self._record(
            ctx, batch.jobs, ready, embedded.failures, embedded.writes, answers
        )
        if recorded:
            self._commit(list(changed.values()), batch.jobs, recorded, ctx, answers)
        for write in embedded.caching:
            if write.exception() is not None:  # a cache: the next embed of the text pays
                logger.warning("vector cache write failed: %s", write.exception())
        return [answers[n] for n in range(len(batch.jobs))]

    def _record(
        self,
        ctx: Context,
        jobs: Sequence[Job],
        ready: dict[int, _Ready],
        failures: dict[int, EmbeddingFailed],
        writes: dict[int, Future[BlobRef]],
        answers: dict[int, Next],
    ) -> tuple[dict[int, Url], list[_Recorded | _Refused]]:
        """Record each job's outcome on its Url (answers go to `answers`): the
        URLs with an event to commit, by job, and what was recorded. The same
        job twice in a batch shares one Url (one load) and is recorded once."""
        changed: dict[int, Url] = {}
        recorded: list[_Recorded | _Refused] = []
        for n, failure in failures.items():
            item = ready.pop(n)
            if failure.transient:  # not the text's fault (throttling, an outage): again later
                at = self.clock() + retry_delay(jobs[n].attempt, random.random())
                answers[n] = Next(RETRY, jobs[n].version, at=at, reason="embedding")
                continue
            answers[n] = Next(FAILED, jobs[n].version, reason=EMBEDDING_FAILED)
            if item.url.vectors_for(item.model_id) is not None:
                continue  # vectors it holds already (a re-record that found the cache empty)
            if item.url.refusing_model == item.model_id:
                continue  # recorded for the same job earlier in the batch
            item.url.record_vectorization_failure(
                ctx, jobs[n].version, item.model_id, EMBEDDING_FAILED
            )
            changed[n] = item.url
            recorded.append(_Refused(n, item.model_id))
        for n, item in ready.items():
            version, model, ref = jobs[n].version, item.model_id, writes[n].result()
            done = _done(item.url, model, version)  # recorded earlier in the batch
            answers[n] = done or Next(DONE, version)
            if done is not None:
                continue
            dims = self.embedders.get(model).dimensions
            digest = chunks_digest(item.chunking)
            item.url.record_vectors(ctx, version, model, dims, ref.key, digest)
            changed[n] = item.url
            recorded.append(_Recorded(n, model, ref.key, digest, dims))
        return changed, recorded

    def _embed_group(
        self,
        group: list[int],
        ready: dict[int, _Ready],
        known: dict[str, dict[str, Vectors]],
        embedded: _Embedded,
        fresh: dict[str, dict[str, Vectors]],
    ) -> None:
        """Embed a group of jobs (per model) and start writing their vectors blobs
        on the I/O pool: each write waits on its fsync (or an S3 round trip).
        The new vectors go to `fresh` (by model), for the cache."""
        failures, writes = embedded.failures, embedded.writes
        for model in dict.fromkeys(ready[n].model_id for n in group):
            mine = [n for n in group if ready[n].model_id == model]
            ours = known.setdefault(model, {})
            down = [f for n, f in failures.items() if f.transient and ready[n].model_id == model]
            if down:  # throttled or out a moment ago: the batch's later groups wait too
                lacking = [n for n in mine if any(h not in ours for h in ready[n].pieces)]
                failures.update(dict.fromkeys(lacking, down[0]))
            else:
                new = self._embed(model, mine, ready, ours, failures)
                fresh.setdefault(model, {}).update(new)
                ours.update(new)
            for n in mine:
                if n not in failures:
                    matrix = self._matrix(ours, ready[n])
                    writes[n] = _IO.submit(self._put_vectors, matrix)

    def _put_vectors(self, matrix: Vectors) -> BlobRef:
        return self.blobs.put(vectors.encode(matrix), kind=vectors.KIND)

    def _prepare(self, job: Job, url: Url | None, models: dict[uuid.UUID, str]) -> _Ready | Next:
        """What the job embeds (its model decided), or the answer already."""
        try:
            if url is None:
                raise NotFound("url not found")
            if not url.is_live or job.version != url.current_version:
                return Next(STALE, reason="StaleVersion")
            chunking = url.chunkings.get(job.version)
            if chunking is None:
                return Next(CHUNK, job.version)
            model = job.model_id
            if model is None:
                if url.project_id not in models:
                    project = self.store.load(Project, url.project_id)
                    models[url.project_id] = project.embedding_model
                model = models[url.project_id]
            done = _done(url, model, job.version)
            if done is not None:
                return done
            text = self.blobs.get(url.texts[job.version].text_key).decode("utf-8", "surrogatepass")
        except NotFound:  # the URL or its project
            return Next(STALE, reason="NotFound")
        except BlobNotFound:
            logger.error("text blob missing for %s v%s", job.url_id, job.version)
            return Next(FAILED, job.version, reason="blob-missing")
        pieces = {c.text_hash: text[c.start : c.end] for c in chunking.chunks}
        return _Ready(url, model, chunking, pieces)

    def _matrix(self, known: dict[str, Vectors], item: _Ready) -> Vectors:
        """The URL's vectors (`known`: its model's, by text hash), one row per chunk."""
        rows = [known[c.text_hash] for c in item.chunking.chunks]
        if rows:
            return np.stack(rows)
        return np.zeros((0, self.embedders.get(item.model_id).dimensions), dtype=np.float32)

    def _embed(
        self,
        model: str,
        mine: list[int],
        ready: dict[int, _Ready],
        known: dict[str, Vectors],
        failures: dict[int, EmbeddingFailed],
    ) -> dict[str, Vectors]:
        """The vectors of the jobs `mine` (one model) that `known` lacks, by text
        hash. A batch the model refuses is embedded again one URL at a time, so
        a URL whose text it cannot take fails alone; the failures go to
        `failures`, by job."""
        texts = {h: t for n in mine for h, t in ready[n].pieces.items() if h not in known}
        try:
            return self._vectors_of(model, texts)
        except EmbeddingFailed as failure:
            logger.warning("embedding with %s failed: %s", model, failure.reason)
            lacking = [n for n in mine if any(h in texts for h in ready[n].pieces)]
            if failure.transient or len(lacking) == 1:
                failures.update(dict.fromkeys(lacking, failure))
                return {}
        found: dict[str, Vectors] = {}
        for number, n in enumerate(lacking):
            alone = {h: t for h, t in ready[n].pieces.items() if h in texts and h not in found}
            try:
                found.update(self._vectors_of(model, alone))
            except EmbeddingFailed as refused:
                logger.warning("embedding with %s failed for one URL: %s", model, refused.reason)
                failures[n] = refused
                if refused.transient:  # an outage now: the rest wait too
                    failures.update(dict.fromkeys(lacking[number + 1 :], refused))
                    break
        return found

    def _commit(
        self,
        urls: list[Url],
        jobs: Sequence[Job],
        recorded: list[_Recorded | _Refused],
        ctx: Context,
        answers: dict[int, Next],
    ) -> None:
        """All in one commit; when another writer got in first, each URL on its own."""
        try:
            self.store.commit(*urls)
            return
        except IntegrityError:  # another writer got in first: retried one by one below
            logger.info("batch of %s vectorized URLs conflicted; recording one by one", len(urls))
        for item in recorded:
            job = jobs[item.number]

            def record(job: Job = job, item: _Recorded | _Refused = item) -> None:
                url = self.store.load(Url, job.url_id)
                if url.vectors_for(item.model_id) is not None:
                    return
                if isinstance(item, _Refused):
                    if url.refused_by == item.model_id:  # the same job twice in a batch
                        return
                    url.record_vectorization_failure(
                        ctx, job.version, item.model_id, EMBEDDING_FAILED
                    )
                else:
                    url.record_vectors(
                        ctx, job.version, item.model_id, item.dims, item.key, item.digest
                    )
                self.store.commit(url)

            try:
                self.store.retrying(record)
            except _STALE as stale:
                answers[item.number] = Next(STALE, reason=type(stale).__name__)

    def _vectors_of(self, model_id: str, texts: dict[str, str]) -> dict[str, Vectors]:
        """Vectors of texts (the cache lacks them) by hash, embedded in batches."""
        found: dict[str, Vectors] = {}
        hashes = list(texts)
        embedder = self.embedders.get(model_id)
        for start in range(0, len(hashes), self.batch_size):
            batch = hashes[start : start + self.batch_size]
            matrix = embedder.embed([texts[h] for h in batch])
            if matrix.shape != (len(batch), embedder.dimensions):
                raise EmbeddingFailed(f"{model_id}: {matrix.shape} vectors", transient=False)
            found.update(zip(batch, matrix, strict=True))
        return found
