"""Bodies of the urls routes.

A URL string may be up to 4,096 characters here so that the domain answers
2,049..4,096 per URL (`rejected`, `too-long`); longer strings, more than
1,000 URLs or a body over the byte limit refuse the whole request.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from application.urls import details
from application.urls.commands import MAX_URLS
from application.urls.details import VersionView
from application.urls.queries import UrlView
from interfaces.http.schemas import Schema

URL_CAP = 4096

RawUrl = Annotated[str, msgspec.Meta(max_length=URL_CAP)]


class AddUrls(Schema):
    urls: Annotated[list[RawUrl], msgspec.Meta(max_length=MAX_URLS)]


class UrlItem(Schema):
    """What became of one URL of the request."""

    url: str
    status: str  # accepted / duplicate / rejected
    id: UUID | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET


class AddedUrls(Schema):
    id: UUID  # the project
    version: int
    position: int
    items: list[UrlItem]


class Url(Schema):
    id: UUID
    project_id: UUID
    url: str
    status: str
    indexed: bool
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    version: int | None
    title: str | None
    added_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: UrlView) -> Url:
        return cls(
            id=view.id,
            project_id=view.project_id,
            url=view.url,
            status=view.status,
            indexed=view.indexed,
            attempts=view.attempts,
            next_attempt_at=view.next_attempt_at,
            last_error=view.last_error,
            version=view.version,
            title=view.title,
            added_at=view.added_at,
            updated_at=view.updated_at,
        )


class UrlPage(Schema):
    items: list[Url]
    next_cursor: str | None
    counts: dict[str, int]


class Version(Schema):
    version: int
    content_hash: str
    fetched_at: datetime
    current: bool
    text_hash: str | None
    language: str | None
    word_count: int | None
    chunks: int | None  # null until chunked

    @classmethod
    def of(cls, view: VersionView) -> Version:
        return cls(**dataclasses.asdict(view))


class Versions(Schema):
    items: list[Version]


class Chunk(Schema):
    chunk_id: UUID
    ordinal: int
    start: int  # offsets into the version's extracted text: text[start:end]
    end: int
    text: str


class Chunks(Schema):
    version: int
    chunker_version: int
    size: int
    overlap: int
    items: list[Chunk]

    @classmethod
    def of(cls, found: details.Chunks) -> Chunks:
        return cls(
            version=found.version,
            chunker_version=found.chunker_version,
            size=found.size,
            overlap=found.overlap,
            items=[Chunk(**dataclasses.asdict(c)) for c in found.items],
        )
