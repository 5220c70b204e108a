"""A URL's details: its versions, its chunks and its extracted text (viewer role).

Answered from the Url aggregate itself, which holds exactly this per version,
and the text blobs; a removed URL stays readable. The chunk texts are slices
of the version's extracted text (`text[start:end]`), so a chunk is cited by
its offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application import access
from application.auth.principal import Caller
from application.ports import BlobNotFound, BlobStore
from application.store import NotFound, TrawlStore
from domain.urls.aggregate import Url


class NoText(NotFound):
    """The asked version has no extracted text (yet): 404."""

    slug = "text-not-found"


@dataclass(frozen=True)
class VersionView:
    version: int
    content_hash: str
    fetched_at: datetime
    current: bool
    text_hash: str | None
    language: str | None
    word_count: int | None
    chunks: int | None  # None until chunked


@dataclass(frozen=True)
class ChunkView:
    chunk_id: UUID
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunks:
    version: int
    chunker_version: int
    size: int
    overlap: int
    items: list[ChunkView]


class UrlDetails:
    def __init__(self, store: TrawlStore, blobs: BlobStore, policy: access.AccessPolicy) -> None:
        self.store = store
        self.blobs = blobs
        self.policy = policy

    def versions(self, caller: Caller, url_id: UUID) -> list[VersionView]:
        """Every content version fetched for the URL, oldest first."""
        url = self._visible(caller, url_id)
        views = []
        for held in url.versions:
            text = url.texts.get(held.version)
            chunking = url.chunkings.get(held.version)
            views.append(
                VersionView(
                    version=held.version,
                    content_hash=held.content_hash,
                    fetched_at=held.fetched_at,
                    current=held.version == url.current_version,
                    text_hash=text.text_hash if text else None,
                    language=text.language if text else None,
                    word_count=text.word_count if text else None,
                    chunks=len(chunking.chunks) if chunking else None,
                )
            )
        return views

    def text(self, caller: Caller, url_id: UUID, version: int | None = None) -> tuple[int, str]:
        """(version, extracted text) of the given or current version."""
        return self._text(self._visible(caller, url_id), version)

    def chunks(self, caller: Caller, url_id: UUID, version: int | None = None) -> Chunks:
        """The chunks of the given or current version, with their texts and offsets."""
        url = self._visible(caller, url_id)
        number, text = self._text(url, version)
        chunking = url.chunkings.get(number)
        if chunking is None:
            raise NoText("this version is not chunked (yet)")
        items = [
            ChunkView(c.chunk_id, c.ordinal, c.start, c.end, text[c.start : c.end])
            for c in chunking.chunks
        ]
        return Chunks(number, chunking.chunker_version, chunking.size, chunking.overlap, items)

    def _text(self, url: Url, version: int | None) -> tuple[int, str]:
        number = url.current_version if version is None else version
        held = url.texts.get(number) if number is not None else None
        if number is None or held is None:
            raise NoText("no extracted text for this version")
        try:
            data = self.blobs.get(held.text_key)
        except BlobNotFound:  # a removed URL's blobs go after the retention period
            raise NoText("the text of this version was deleted (retention)") from None
        return number, data.decode("utf-8", "surrogatepass")

    def _visible(self, caller: Caller, url_id: UUID) -> Url:
        try:
            url = self.store.load(Url, url_id)
            self.policy.require(caller, url.project_id, access.VIEWER)
        except NotFound:
            raise NotFound("url not found") from None
        return url
