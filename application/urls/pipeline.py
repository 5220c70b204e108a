"""The ingestion pipeline's steps: fetch -> extract -> chunk, one use case each.

Each step loads the Url, calls one port (fetcher, extractor, blob store) and
records the outcome as a command on the Url (actor `system:worker`). A step
answers what should happen next (`Next`), so a worker can queue the next job:
`extract` / `chunk` a version, `retry` at a time, or nothing more (`done`,
`failed`, `stale`). A stale step (its lease was taken over, its version is no
longer current, the URL was removed) records nothing.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from application.ports import (
    BlobNotFound,
    BlobStore,
    ExtractionFailed,
    Extractor,
    Fetcher,
    FetchError,
    FetchRequest,
    FetchResult,
    Robots,
)
from application.store import NotFound, TrawlStore
from domain.chunks.splitter import CHUNKER_VERSION, Chunk, ChunkSettings, chunk_id, split
from domain.common import Context
from domain.projects.aggregate import ACTIVE, ARCHIVED, Project
from domain.urls import errors
from domain.urls.aggregate import Url
from domain.urls.values import CHUNKED, FETCHED, FETCHING, PENDING, VECTORIZED, retry_delay

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ACTOR = "system:worker"

EXTRACT, CHUNK, RETRY, DONE, FAILED, STALE = "extract", "chunk", "retry", "done", "failed", "stale"
BLOCKED = "blocked"  # robots.txt disallows the URL
PAUSED = "paused"  # the project is archived: try again later, the attempt does not count


# What `Chunked` records of one chunk: id, ordinal, start, end, text hash.
ChunkRow = tuple[uuid.UUID, int, int, int, str]


class ProjectPaused(Exception):
    """The URL's project is archived: its fetches wait until it is restored."""


VECTORIZE = "vectorize"  # the step after chunk: application/vectorization/vectorize.py

# A newer job superseded this one, or the URL is gone: nothing to record.
_STALE = (errors.StaleLease, errors.StaleVersion, errors.UrlRemoved, NotFound)


class Next(NamedTuple):
    """What a step asks for next: extract, chunk, retry, done, failed, stale, blocked, paused."""

    step: str
    version: int | None = None
    at: datetime | None = None  # for `retry`: the next attempt's time
    reason: str | None = None  # for `failed` and `stale`: why


class Pipeline:
    def __init__(
        self,
        store: TrawlStore,
        fetcher: Fetcher,
        extractor: Extractor,
        blobs: BlobStore,
        clock: Clock = lambda: datetime.now(UTC),
        max_attempts: int = 5,
        jitter: Callable[[], float] = random.random,
        robots: Robots | None = None,
    ) -> None:
        self.robots = robots  # None: robots.txt is not consulted
        self.store = store
        self.fetcher = fetcher
        self.extractor = extractor
        self.blobs = blobs
        self.clock = clock
        self.max_attempts = max_attempts
        self.jitter = jitter

    # -- fetch -------------------------------------------------------------

    def fetch(self, url_id: uuid.UUID, lease_id: uuid.UUID, attempt: int) -> Next:
        """Start the fetch under `lease_id`, fetch conditionally, record the outcome."""
        ctx = Context(ACTOR, lease_id.hex)
        try:
            url = self.store.retrying(lambda: self._start(ctx, url_id, lease_id, attempt))
        except errors.FetchNotScheduled:
            # A worker before us recorded the outcome and died before finishing
            # the job: carry on from where the URL stands.
            return self._resume(url_id)
        except ProjectPaused:
            return Next(PAUSED)
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        try:
            return self._fetch_started(ctx, url, lease_id, attempt)
        except FetchError as failure:
            return self._failed(ctx, url, lease_id, attempt, failure)
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)

    def _fetch_started(self, ctx: Context, url: Url, lease_id: uuid.UUID, attempt: int) -> Next:
        """robots.txt, then the conditional fetch; the outcome recorded."""
        if self.robots is not None and not self.robots.allowed(url.url):
            return self._blocked(ctx, url, lease_id)
        request = FetchRequest(
            url.url,
            etag=url.etag if url.current_version else None,
            last_modified=url.last_modified if url.current_version else None,
            may_follow=self.robots.allowed if self.robots is not None else None,
        )
        try:
            result = self.fetcher.fetch(request)
        except FetchError as failure:
            if failure.reason != "robots-disallowed":
                raise
            # A redirect led to a page its site's robots.txt disallows.
            return self._blocked(ctx, url, lease_id)
        return self._fetched(ctx, url, lease_id, result)

    def _start(self, ctx: Context, url_id: uuid.UUID, lease_id: uuid.UUID, attempt: int) -> Url:
        url = self.store.load(Url, url_id)
        project = self.store.load(Project, url.project_id)
        if project.is_deleted:
            raise NotFound("the URL's project was deleted")
        if project.status == ARCHIVED:
            raise ProjectPaused(str(project.id))
        url.start_fetch(ctx, attempt, lease_id)
        self.store.commit(url)
        return url

    def _blocked(self, ctx: Context, url: Url, lease_id: uuid.UUID) -> Next:
        self._record(url, lambda current: current.record_blocked(ctx, lease_id))
        return Next(BLOCKED)

    def _fetched(self, ctx: Context, url: Url, lease_id: uuid.UUID, result: FetchResult) -> Next:
        ref = None if result.not_modified else self.blobs.put(result.body, kind="raw")

        def record(current: Url) -> None:
            if ref is None:
                current.record_not_modified(ctx, lease_id)
                return
            current.record_fetch(
                ctx,
                lease_id,
                status=result.status,
                content_type=result.content_type,
                final_url=result.final_url,
                content_hash=ref.sha256,
                blob_key=ref.key,
                title=None,  # the extractor finds it (TextExtracted.title)
                etag=result.etag,
                last_modified=result.last_modified,
                size=ref.size,
            )

        url = self._record(url, record)
        if self._vectors_missing(url):  # unchanged content, embedded before a model change
            return Next(VECTORIZE, url.current_version)
        return _after_fetch(url)

    def _vectors_missing(self, url: Url) -> bool:
        """Whether the current chunks lack the vectors of the project's model:
        none yet, or only a model's the project has left (a URL revived or
        refreshed unchanged after a model change would otherwise never get the
        new model's vectors, and never be searchable again)."""
        if url.status != VECTORIZED:
            return url.status == CHUNKED
        model = self.store.load(Project, url.project_id).embedding_model
        return url.vectors_for(model) is None

    def _failed(
        self,
        ctx: Context,
        url: Url,
        lease_id: uuid.UUID,
        attempt: int,
        failure: FetchError,
    ) -> Next:
        at: datetime | None = None
        if failure.transient and attempt < self.max_attempts:
            retry_after = (
                None if failure.retry_after is None else timedelta(seconds=failure.retry_after)
            )
            at = self.clock() + retry_delay(attempt, self.jitter(), retry_after)

        def record(current: Url) -> None:
            current.record_failure(
                ctx,
                lease_id,
                failure.reason,
                failure.transient,
                attempt,
                at,
                max_attempts=self.max_attempts,
            )

        try:
            self._record(url, record)
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        if at is None:
            return Next(FAILED, reason=failure.reason)
        return Next(RETRY, at=at, reason=failure.reason)

    def _resume(self, url_id: uuid.UUID) -> Next:
        try:
            url = self.store.load(Url, url_id)
        except NotFound:
            return Next(STALE, reason="NotFound")
        following = _after_fetch(url)
        if following.step == DONE and self._vectors_missing(url):
            return Next(VECTORIZE, url.current_version)  # an unchanged fetch recorded
        return following if following.step != DONE else Next(STALE, reason="FetchNotScheduled")

    # -- extract -----------------------------------------------------------

    def extract(self, url_id: uuid.UUID, version: int) -> Next:
        """The version's raw bytes -> main text and its chunks (the project's
        settings): the text stored as a blob, `TextExtracted` and `Chunked`
        recorded in one commit."""
        ctx = Context(ACTOR, uuid.uuid4().hex)
        try:
            url = self._current(url_id, version)
            if version in url.texts:  # a repeated job (a crash after its commit): carry on
                return self.chunk(url_id, version)
            settings = self.store.load(Project, url.project_id).settings.chunking
            body = self.blobs.get(url.versions[version - 1].blob_key)
            extracted = self.extractor.extract(
                body,
                url=url.final_url or url.url,
                content_type=url.content_type or "text/html",
                chunking=settings,
            )
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        except ExtractionFailed as failure:
            logger.warning("extraction failed for %s v%s: %s", url_id, version, failure.reason)
            return self._extraction_failed(ctx, url, version, failure.reason)
        except BlobNotFound:
            logger.error("raw blob missing for %s v%s", url_id, version)
            return Next(FAILED, version, reason="blob-missing")
        ref = self.blobs.put(extracted.text.encode("utf-8", "surrogatepass"), kind="text")
        if extracted.chunks is None:  # an extractor that does not split
            extracted = extracted.chunked(settings)
        chunks = _chunk_rows(url_id, extracted.chunks or ())

        def record(current: Url) -> None:
            current.record_text(
                ctx,
                version,
                ref.sha256,
                ref.key,
                extracted.language,
                extracted.word_count,
                extracted.title,
            )
            current.record_chunks(
                ctx, version, CHUNKER_VERSION, settings.size, settings.overlap, chunks
            )

        try:
            self._record(url, record)
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        return Next(VECTORIZE, version)

    def _extraction_failed(self, ctx: Context, url: Url, version: int, reason: str) -> Next:
        try:
            self._record(
                url, lambda current: current.record_extraction_failure(ctx, version, reason)
            )
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        return Next(FAILED, version, reason=reason)

    # -- chunk -------------------------------------------------------------

    def chunk(  # noqa: PLR0911 - one early answer per reason to stop
        self, url_id: uuid.UUID, version: int | None, settings: ChunkSettings | None = None
    ) -> Next:
        """The version's text -> chunks (ids, offsets, hashes), recorded.

        `version` None: the current one (a re-chunk after a settings change);
        `settings` None: the project's. Chunks already made with the same
        settings and chunker are not recorded again.
        """
        ctx = Context(ACTOR, uuid.uuid4().hex)
        try:
            url = self.store.load(Url, url_id)
            if version is None:  # a re-chunk: whatever version is current
                version = url.current_version
                if version is None:
                    return Next(DONE)
            _check_current(url, version)
            if settings is None:
                settings = self.store.load(Project, url.project_id).settings.chunking
            text = url.texts.get(version)
            if text is None:
                return Next(EXTRACT, version)
            done = url.chunkings.get(version)
            if done is not None and (done.chunker_version, done.size, done.overlap) == (
                CHUNKER_VERSION,
                settings.size,
                settings.overlap,
            ):
                # Nothing new to record; the vectors may still be missing (a
                # crash before the vectorize job was queued): the step is idempotent.
                return Next(VECTORIZE if self._vectors_missing(url) else DONE, version)
            data = self.blobs.get(text.text_key).decode("utf-8", "surrogatepass")
        except _STALE as stale:
            return Next(STALE, reason=type(stale).__name__)
        except BlobNotFound:
            logger.error("text blob missing for %s v%s", url_id, version)
            return Next(FAILED, version, reason="blob-missing")
        chunks = _chunk_rows(url_id, split(data, settings))

        def record(current: Url) -> None:
            current.record_chunks(
                ctx, version, CHUNKER_VERSION, settings.size, settings.overlap, chunks
            )

        try:
            self._record(url, record)
        except (*_STALE, errors.TextNotExtracted) as stale:
            return Next(STALE, reason=type(stale).__name__)
        return Next(VECTORIZE, version)

    # -- periodic refresh ----------------------------------------------------

    def refresh(self, url_id: uuid.UUID) -> Next:
        """The refresh interval of the URL's project came round: schedule a
        conditional fetch, unless refresh was turned off, the project is not
        active, or a fetch is already waiting or running."""
        ctx = Context("system:refresher", uuid.uuid4().hex)

        def schedule() -> bool:
            url = self.store.load(Url, url_id)
            project = self.store.load(Project, url.project_id)
            if (
                not url.is_live
                or url.status in (PENDING, FETCHING)
                or project.status != ACTIVE
                or project.settings.refresh_interval_seconds is None
            ):
                return False
            url.schedule_fetch(ctx, "refresh", None)
            self.store.commit(url)
            return True

        try:
            return Next(DONE) if self.store.retrying(schedule) else Next(STALE, reason="no-refresh")
        except NotFound:
            return Next(STALE, reason="NotFound")

    def _current(self, url_id: uuid.UUID, version: int) -> Url:
        return _check_current(self.store.load(Url, url_id), version)

    def _record(self, url: Url, command: Callable[[Url], None]) -> Url:
        """Run `command` on `url` and commit it; the committed Url.

        `url` was loaded earlier in the step (before its slow I/O), so it is
        not loaded twice; if another writer committed since, the commit fails
        and the command runs again on a fresh load, re-checking its guards.
        """
        first = [url]

        def attempt() -> Url:
            current = first.pop() if first else self.store.load(Url, url.id)
            command(current)
            self.store.commit(current)
            return current

        return self.store.retrying(attempt)


def _check_current(url: Url, version: int) -> Url:
    """The URL, when it is live and `version` is its current version."""
    if not url.is_live:
        raise errors.UrlRemoved("the URL was removed")
    if version != url.current_version:
        raise errors.StaleVersion(f"version {version} is not the current version")
    return url


def _chunk_rows(url_id: uuid.UUID, pieces: Iterable[Chunk]) -> list[ChunkRow]:
    """What `Chunked` records of each chunk: id, ordinal, offsets, text hash."""
    return [
        (
            chunk_id(url_id, CHUNKER_VERSION, piece.ordinal, piece.text_hash),
            piece.ordinal,
            piece.start,
            piece.end,
            piece.text_hash,
        )
        for piece in pieces
    ]


def _after_fetch(url: Url) -> Next:
    """A fetched version goes on to extraction, or to chunking when its text is there."""
    if url.status != FETCHED or url.current_version is None:
        return Next(DONE, url.current_version)
    if url.text is None:
        return Next(EXTRACT, url.current_version)
    return Next(CHUNK, url.current_version)
