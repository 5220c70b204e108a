"""Values of the urls area: the status vocabulary, what a Url keeps per
content version, and the retry policy (pure: the caller brings the jitter)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from domain.urls import errors

# One vocabulary everywhere (DESIGN.md, "The ingestion pipeline").
PENDING, FETCHING, FETCHED, CHUNKED = "pending", "fetching", "fetched", "chunked"
VECTORIZED, FAILED, BLOCKED, REMOVED = "vectorized", "failed", "blocked", "removed"
EMBEDDING_FAILED = "embedding-failed"  # why a vectorization the model refused failed
# `vectorized`: the current chunks have vectors (the vectorize step, any model).
STATUSES = (PENDING, FETCHING, FETCHED, CHUNKED, VECTORIZED, FAILED, BLOCKED, REMOVED)

SCHEDULE_REASONS = ("added", "refresh", "retry", "settings")
# Failure reasons are the fetcher's and extractor's stable slugs
# (application.ports.FetchError): "timeout", "http-5xx", "address-refused", ...
_REASON = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)


class ContentVersion(NamedTuple):
    """One distinct content fetched for a URL; `version` counts from 1."""

    version: int
    content_hash: str
    blob_key: str
    fetched_at: datetime


class ExtractedText(NamedTuple):
    """The main text extracted from one content version."""

    text_hash: str
    text_key: str
    language: str | None
    word_count: int


class ChunkRef(NamedTuple):
    """One chunk of a version's text: its id, place and text hash."""

    chunk_id: UUID
    ordinal: int
    start: int
    end: int
    text_hash: str


class Chunking(NamedTuple):
    """How a version's text was chunked, and the chunks."""

    chunker_version: int
    size: int
    overlap: int
    chunks: tuple[ChunkRef, ...]


TITLE_MAX = 500


def clip_title(title: str | None) -> str | None:
    """One line of at most 500 characters; None when empty."""
    if title is None:
        return None
    line = " ".join(title.split())[:TITLE_MAX]
    return line or None


def check_schedule_reason(reason: str) -> None:
    if reason not in SCHEDULE_REASONS:
        raise errors.InvalidScheduleReason(f"a fetch is scheduled for one of {SCHEDULE_REASONS}")


def check_failure_reason(reason: str) -> None:
    if not _REASON.fullmatch(reason):
        raise errors.InvalidFailureReason("a failure reason is a lower-case slug")


def check_aware(moment: datetime | None) -> None:
    """Times in events are absolute: a naive datetime means nothing in a log."""
    if moment is not None and moment.utcoffset() is None:
        raise errors.NaiveTime("times must carry a time zone (UTC)")


def check_chunks(chunks: list[ChunkRef]) -> None:
    """Ordinals 0, 1, 2, ... in order, ids unique, spans well formed."""
    if [chunk.ordinal for chunk in chunks] != list(range(len(chunks))):
        raise errors.InvalidChunks("chunk ordinals must count from 0 in order")
    if len({chunk.chunk_id for chunk in chunks}) != len(chunks):
        raise errors.InvalidChunks("chunk ids must be unique")
    if any(not 0 <= chunk.start < chunk.end for chunk in chunks):
        raise errors.InvalidChunks("a chunk spans at least one character from offset 0 on")


def retry_delay(attempt: int, jitter: float, retry_after: timedelta | None = None) -> timedelta:
    """How long to wait after failed attempt `attempt` (1, 2, ...).

    Exponential (30 s, 1 min, 2 min, ... at most 1 h) with "equal jitter":
    half the delay fixed, half scaled by `jitter` in [0, 1), so workers that
    failed together do not come back together. Never sooner than the
    server's `Retry-After`.
    """
    if attempt < 1 or not 0 <= jitter < 1:
        raise ValueError("attempt counts from 1 and jitter is in [0, 1)")
    delay = min(RETRY_CAP, RETRY_BASE * (1 << min(attempt - 1, 32)))
    delay = delay / 2 + delay / 2 * jitter
    if retry_after is not None and retry_after > delay:
        return retry_after
    return delay
