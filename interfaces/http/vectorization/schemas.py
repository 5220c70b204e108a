"""Bodies of the search route."""

from __future__ import annotations

from uuid import UUID

from application.vectorization.search import SearchHit
from interfaces.http.schemas import Schema


class Hit(Schema):
    """One chunk found: cite it by URL, version and offsets, or open `fragment_url`."""

    chunk_id: UUID
    url_id: UUID
    url: str
    title: str | None
    text: str
    score: float
    start: int  # offsets in the version's extracted text (GET /urls/{id}/text?version=)
    end: int
    fragment_url: str
    version: int

    @classmethod
    def of(cls, found: SearchHit) -> Hit:
        hit = found.hit
        return cls(
            chunk_id=hit.chunk_id,
            url_id=hit.url_id,
            url=hit.url,
            title=hit.title,
            text=hit.text,
            score=hit.score,
            start=hit.start,
            end=hit.end,
            fragment_url=found.fragment_url,
            version=hit.version,
        )


class SearchAnswer(Schema):
    items: list[Hit]
    model: str
