"""The Url aggregate: one URL of a project, from added to chunked text.

id = uuid5(project id, normalized URL). Workers report each pipeline step as
a command; a fetch outcome must name the lease of the `FetchStarted` it
answers, so a late worker (its lease expired, the job was taken over) is
refused with `StaleLease` and records nothing. Content versions count the
distinct content hashes fetched (1, 2, ...); text and chunks are kept per
version, and only the current version accepts new ones. A removed URL stays
readable; only `revive` changes it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from domain.common import Context, TrawlAggregate
from domain.urls import errors, normalize, values
from domain.urls.values import (
    BLOCKED,
    CHUNKED,
    FAILED,
    FETCHED,
    FETCHING,
    PENDING,
    REMOVED,
    VECTORIZED,
    Chunking,
    ChunkRef,
    ContentVersion,
    ExtractedText,
)
from domain.vectorization.models import parse_model_id


class Url(TrawlAggregate):
    TOPIC = "trawl:url"
    # The created event is `Added`; hide the inherited `Created`, which the
    # library would otherwise redefine here as a second, topic-less event class.
    Created = None  # type: ignore[assignment]

    class Added(TrawlAggregate.Created):
        TOPIC = "trawl:url.added"
        project_id: UUID
        url: str
        normalizer_version: int

    class Revived(TrawlAggregate.Event):
        TOPIC = "trawl:url.revived"

        def apply(self, aggregate: Url) -> None:
            aggregate._rest(PENDING)

    class Removed(TrawlAggregate.Event):
        TOPIC = "trawl:url.removed"

        def apply(self, aggregate: Url) -> None:
            aggregate._rest(REMOVED)

    class FetchScheduled(TrawlAggregate.Event):
        TOPIC = "trawl:url.fetch_scheduled"
        reason: str
        not_before: datetime | None

        def apply(self, aggregate: Url) -> None:
            aggregate.status, aggregate.lease_id = PENDING, None
            aggregate.schedule_reason = self.reason
            aggregate.next_attempt_at = self.not_before

    class FetchStarted(TrawlAggregate.Event):
        TOPIC = "trawl:url.fetch_started"
        attempt: int
        lease_id: UUID

        def apply(self, aggregate: Url) -> None:
            aggregate.status, aggregate.lease_id = FETCHING, self.lease_id
            aggregate.attempts, aggregate.next_attempt_at = self.attempt, None

    class Fetched(TrawlAggregate.Event):
        TOPIC = "trawl:url.fetched"
        lease_id: UUID
        version: int
        http_status: int
        content_type: str
        final_url: str
        content_hash: str
        blob_key: str
        title: str | None
        etag: str | None
        last_modified: str | None
        size: int

        def apply(self, aggregate: Url) -> None:
            if self.version > len(aggregate.versions):
                aggregate.versions.append(
                    ContentVersion(self.version, self.content_hash, self.blob_key, self.timestamp)
                )
            aggregate.current_version = self.version
            aggregate.title, aggregate.final_url = self.title, self.final_url
            aggregate.content_type = self.content_type
            aggregate.etag, aggregate.last_modified = self.etag, self.last_modified
            aggregate._settle(FETCHED)

    class Unchanged(TrawlAggregate.Event):
        """A 304, or a 200 with the current version's content hash."""

        TOPIC = "trawl:url.unchanged"
        lease_id: UUID
        version: int
        not_modified: bool
        etag: str | None
        last_modified: str | None

        def apply(self, aggregate: Url) -> None:
            aggregate.etag, aggregate.last_modified = self.etag, self.last_modified
            # Nothing changed: the version is as far along as it already was.
            aggregate._settle(aggregate._progress())

    class FetchFailed(TrawlAggregate.Event):
        """`next_attempt_at` is None when the URL gave up (status `failed`)."""

        TOPIC = "trawl:url.fetch_failed"
        lease_id: UUID
        reason: str
        attempt: int
        next_attempt_at: datetime | None

        def apply(self, aggregate: Url) -> None:
            aggregate._settle(FAILED if self.next_attempt_at is None else PENDING)
            aggregate.last_error, aggregate.next_attempt_at = self.reason, self.next_attempt_at

    class Blocked(TrawlAggregate.Event):
        """robots.txt disallows fetching the URL."""

        TOPIC = "trawl:url.blocked"
        lease_id: UUID

        def apply(self, aggregate: Url) -> None:
            aggregate._settle(BLOCKED)
            aggregate.last_error = "robots"

    class TextExtracted(TrawlAggregate.Event):
        TOPIC = "trawl:url.text_extracted"
        version: int
        text_hash: str
        text_key: str
        language: str | None
        word_count: int
        title: str | None = None  # the page's title, as the extractor found it

        def apply(self, aggregate: Url) -> None:
            if self.title:
                aggregate.title = self.title
            text = ExtractedText(self.text_hash, self.text_key, self.language, self.word_count)
            previous = aggregate.texts.get(self.version)
            aggregate.texts[self.version] = text
            if previous is not None and previous.text_hash != text.text_hash:
                # Chunks of another text are not this version's chunks any more.
                aggregate.chunkings.pop(self.version, None)
                if aggregate.status in (CHUNKED, VECTORIZED):
                    aggregate.status = FETCHED

    class ExtractionFailed(TrawlAggregate.Event):
        """No main text could be extracted from the version: `failed`, with the reason."""

        TOPIC = "trawl:url.extraction_failed"
        version: int
        reason: str

        def apply(self, aggregate: Url) -> None:
            aggregate.status, aggregate.last_error = FAILED, self.reason

    class Chunked(TrawlAggregate.Event):
        TOPIC = "trawl:url.chunked"
        version: int
        chunker_version: int
        size: int
        overlap: int
        chunks: list[tuple[UUID, int, int, int, str]]  # (id, ordinal, start, end, text hash)

        def apply(self, aggregate: Url) -> None:
            chunks = tuple(ChunkRef(*chunk) for chunk in self.chunks)
            aggregate.chunkings[self.version] = Chunking(
                self.chunker_version, self.size, self.overlap, chunks
            )
            # A refresh already waiting (pending, fetching) keeps its status.
            if aggregate.status in (FETCHED, CHUNKED, VECTORIZED):
                aggregate.status = CHUNKED
            elif aggregate.refusing_model and self.version == aggregate.current_version:
                aggregate.status, aggregate.last_error = CHUNKED, None  # new chunks: try again
            aggregate.refused_by = None

    def __init__(self, project_id: UUID, url: str, normalizer_version: int, **_: object) -> None:
        self.project_id = project_id
        self.url = url
        self.normalizer_version = normalizer_version
        self.status = PENDING
        self.schedule_reason: str | None = None
        self.lease_id: UUID | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self.next_attempt_at: datetime | None = None
        self.versions: list[ContentVersion] = []
        self.current_version: int | None = None
        self.title: str | None = None
        self.final_url: str | None = None
        self.content_type: str | None = None
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.texts: dict[int, ExtractedText] = {}
        self.chunkings: dict[int, Chunking] = {}
        self.vectors: dict[str, Vectorization] = {}  # by model id
        self.refused_by: str | None = None  # the model that refused the current chunks

    @classmethod
    def add(cls, ctx: Context, project_id: UUID, raw_url: str) -> Url:
        """A new URL in a project; raises `errors.InvalidUrl` (with a reason)."""
        url = normalize.normalize_url(raw_url)
        return cls._create(
            cls.Added,
            id=normalize.url_id(project_id, url),
            project_id=project_id,
            url=url,
            normalizer_version=normalize.NORMALIZER_VERSION,
            **ctx.fields(),
        )

    @property
    def is_live(self) -> bool:
        """False once removed: adding a live URL again is a duplicate."""
        return self.status != REMOVED

    @property
    def current(self) -> ContentVersion | None:
        return None if self.current_version is None else self.versions[self.current_version - 1]

    @property
    def text(self) -> ExtractedText | None:
        """The current version's text, if extracted."""
        return None if self.current_version is None else self.texts.get(self.current_version)

    @property
    def chunking(self) -> Chunking | None:
        """The current version's chunks, if chunked."""
        return None if self.current_version is None else self.chunkings.get(self.current_version)

    def version_of(self, content_hash: str) -> int:
        """The version number a content hash has or would get."""
        for known in self.versions:
            if known.content_hash == content_hash:
                return known.version
        return len(self.versions) + 1

    def revive(self, ctx: Context) -> None:
        if self.is_live:
            raise errors.UrlAlreadyLive("the URL is already in the project")
        self._emit(self.Revived, ctx)

    def remove(self, ctx: Context) -> None:
        self._check_live()
        self._emit(self.Removed, ctx)

    def schedule_fetch(self, ctx: Context, reason: str, not_before: datetime | None) -> None:
        """Queue a fetch; supersedes a running one (its lease stops counting)."""
        self._check_live()
        values.check_schedule_reason(reason)
        values.check_aware(not_before)
        self._emit(self.FetchScheduled, ctx, reason=reason, not_before=not_before)

    def start_fetch(self, ctx: Context, attempt: int, lease_id: UUID) -> None:
        """A worker took the job; from `fetching`, a new lease takes over an expired one."""
        self._check_live()
        if self.status not in (PENDING, FETCHING):
            raise errors.FetchNotScheduled(f"no fetch is scheduled (status {self.status})")
        if attempt < 1:
            raise errors.InvalidAttempt("attempts count from 1")
        self._emit(self.FetchStarted, ctx, attempt=attempt, lease_id=lease_id)

    def record_fetch(
        self,
        ctx: Context,
        lease_id: UUID,
        status: int,
        content_type: str,
        final_url: str,
        content_hash: str,
        blob_key: str,
        title: str | None,
        etag: str | None,
        last_modified: str | None,
        size: int,
    ) -> None:
        """A page fetched: a (new or earlier) version, or `Unchanged` for the same content."""
        self._check_lease(lease_id)
        if self.current is not None and self.current.content_hash == content_hash:
            self._unchanged(ctx, lease_id, False, etag, last_modified)
            return
        self._emit(
            self.Fetched,
            ctx,
            lease_id=lease_id,
            version=self.version_of(content_hash),
            http_status=status,
            content_type=content_type,
            final_url=final_url,
            content_hash=content_hash,
            blob_key=blob_key,
            title=title,
            etag=etag,
            last_modified=last_modified,
            size=size,
        )

    def record_not_modified(self, ctx: Context, lease_id: UUID) -> None:
        """A 304 to a conditional fetch: the current version still holds."""
        self._check_lease(lease_id)
        if self.current_version is None:  # nothing was asked conditionally
            raise errors.StaleVersion("a 304 needs a version to be unchanged from")
        self._unchanged(ctx, lease_id, True, self.etag, self.last_modified)

    def record_failure(
        self,
        ctx: Context,
        lease_id: UUID,
        reason: str,
        transient: bool,
        attempt: int,
        next_attempt_at: datetime | None,
        max_attempts: int = values.MAX_ATTEMPTS,
    ) -> None:
        """A failed attempt: `pending` until the retry, or `failed` for good."""
        self._check_lease(lease_id)
        values.check_failure_reason(reason)
        if attempt != self.attempts:
            raise errors.InvalidAttempt(f"the lease is for attempt {self.attempts}")
        gives_up = not transient or attempt >= max_attempts
        if not gives_up and next_attempt_at is None:
            raise errors.RetryTimeMissing("a retry needs the time of the next attempt")
        values.check_aware(next_attempt_at)
        self._emit(
            self.FetchFailed,
            ctx,
            lease_id=lease_id,
            reason=reason,
            attempt=attempt,
            next_attempt_at=None if gives_up else next_attempt_at,
        )

    def record_blocked(self, ctx: Context, lease_id: UUID) -> None:
        self._check_lease(lease_id)
        self._emit(self.Blocked, ctx, lease_id=lease_id)

    def record_text(
        self,
        ctx: Context,
        version: int,
        text_hash: str,
        text_key: str,
        language: str | None,
        word_count: int,
        title: str | None = None,
    ) -> None:
        self._check_current(version)
        self._emit(
            self.TextExtracted,
            ctx,
            version=version,
            text_hash=text_hash,
            text_key=text_key,
            language=language,
            word_count=word_count,
            title=values.clip_title(title),
        )

    def record_extraction_failure(self, ctx: Context, version: int, reason: str) -> None:
        self._check_current(version)
        values.check_failure_reason(reason)
        self._emit(self.ExtractionFailed, ctx, version=version, reason=reason)

    def record_chunks(
        self,
        ctx: Context,
        version: int,
        chunker_version: int,
        size: int,
        overlap: int,
        chunks: list[tuple[UUID, int, int, int, str]],
    ) -> None:
        """The chunks of the current version's text, (id, ordinal, start, end, text hash)."""
        self._check_current(version)
        if version not in self.texts:
            raise errors.TextNotExtracted(f"version {version} has no extracted text")
        refs = [ChunkRef(*chunk) for chunk in chunks]
        values.check_chunks(refs)
        self._emit(
            self.Chunked,
            ctx,
            version=version,
            chunker_version=chunker_version,
            size=size,
            overlap=overlap,
            chunks=[tuple(ref) for ref in refs],
        )

    def _unchanged(
        self,
        ctx: Context,
        lease_id: UUID,
        not_modified: bool,
        etag: str | None,
        modified: str | None,
    ) -> None:
        self._emit(
            self.Unchanged,
            ctx,
            lease_id=lease_id,
            version=self.current_version,
            not_modified=not_modified,
            etag=etag,
            last_modified=modified,
        )

    def _check_live(self) -> None:
        if not self.is_live:
            raise errors.UrlRemoved("the URL was removed: revive it first")

    def _check_lease(self, lease_id: UUID) -> None:
        self._check_live()
        if self.status != FETCHING or lease_id != self.lease_id:
            raise errors.StaleLease("this lease no longer answers for the URL's fetch")

    def _check_current(self, version: int) -> None:
        self._check_live()
        if version != self.current_version:
            raise errors.StaleVersion(f"version {version} is not the current version")

    def _settle(self, status: str) -> None:
        """A fetch outcome: the lease is spent (and a refusal is history)."""
        self.status, self.lease_id, self.refused_by = status, None, None
        if status != FAILED:
            self.last_error = None

    def _rest(self, status: str) -> None:
        """Removed or revived: no fetch runs or waits any more."""
        self.status, self.lease_id, self.refused_by = status, None, None
        self.attempts, self.last_error, self.next_attempt_at = 0, None, None

    # -- vectorization (issue 5) ---------------------------------------------

    class Vectorized(TrawlAggregate.Event):
        """The chunks of a version embedded by one model; vectors in chunk order, in a blob."""

        TOPIC = "trawl:url.vectorized"
        version: int
        model_id: str
        dimensions: int
        vectors_key: str
        chunk_count: int
        chunks_hash: str  # of the chunk ids, in order: which chunking these vectors are of

        def apply(self, aggregate: Url) -> None:
            aggregate.vectors[self.model_id] = Vectorization(
                self.version, self.dimensions, self.vectors_key, self.chunks_hash
            )
            if self.version != aggregate.current_version:
                return
            if aggregate.status == CHUNKED or aggregate.refusing_model:
                aggregate.status, aggregate.last_error = VECTORIZED, None
                aggregate.refused_by = None

    class VectorizationFailed(TrawlAggregate.Event):
        """The model refused the current version's chunks for good (or after
        every attempt): `failed`, with the reason; the search index drops the
        URL rather than wait for vectors that will not come."""

        TOPIC = "trawl:url.vectorization_failed"
        version: int
        model_id: str
        reason: str

        def apply(self, aggregate: Url) -> None:
            aggregate.status, aggregate.last_error = FAILED, self.reason
            aggregate.refused_by = self.model_id

    def record_vectors(
        self,
        ctx: Context,
        version: int,
        model_id: str,
        dimensions: int,
        vectors_key: str,
        chunks_hash: str,
    ) -> None:
        """Vectors of the current version's current chunks (refused when they changed since)."""
        self._check_current(version)
        chunking = self.chunkings.get(version)
        if chunking is None or chunks_digest(chunking) != chunks_hash:
            raise errors.StaleVersion("the chunks changed since they were embedded")
        parse_model_id(model_id)
        self._emit(
            self.Vectorized,
            ctx,
            version=version,
            model_id=model_id,
            dimensions=dimensions,
            vectors_key=vectors_key,
            chunk_count=len(chunking.chunks),
            chunks_hash=chunks_hash,
        )

    def record_vectorization_failure(
        self, ctx: Context, version: int, model_id: str, reason: str
    ) -> None:
        """The model cannot embed the current version's chunks (refused when a
        newer version or other chunks came since, or the model has vectors)."""
        self._check_current(version)
        if self.chunkings.get(version) is None:
            raise errors.StaleVersion("the version has no chunks to embed")
        if self.vectors_for(model_id) is not None:
            raise errors.StaleVersion("the model's vectors of these chunks are recorded")
        parse_model_id(model_id)
        values.check_failure_reason(reason)
        self._emit(self.VectorizationFailed, ctx, version=version, model_id=model_id, reason=reason)

    @property
    def refusing_model(self) -> str | None:
        """The model whose refusal of the current chunks failed the URL (None
        once anything else happened: a refresh waiting or running keeps its
        status, as in the urls view)."""
        return self.refused_by if self.status == FAILED else None

    def _progress(self) -> str:
        """How far the current version got: vectorized (any model), chunked or fetched."""
        if self.chunking is None:
            return FETCHED
        has = any(self.vectors_for(model) for model in self.vectors)
        return VECTORIZED if has else CHUNKED

    def vectors_for(self, model_id: str) -> Vectorization | None:
        """The model's vectors if they are of the current version's current chunks."""
        found = self.vectors.get(model_id)
        chunking = self.chunking
        if found is None or chunking is None or found.version != self.current_version:
            return None
        return found if found.chunks_hash == chunks_digest(chunking) else None


class Vectorization(NamedTuple):
    """One model's vectors of one version's chunks."""

    version: int
    dimensions: int
    vectors_key: str
    chunks_hash: str


def chunks_digest(chunking: Chunking) -> str:
    """A short hash of a chunking's chunk ids, in order."""
    joined = ",".join(str(chunk.chunk_id) for chunk in chunking.chunks)
    return hashlib.sha256(joined.encode()).hexdigest()[:32]
