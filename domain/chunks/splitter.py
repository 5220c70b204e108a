"""The text splitter, version 1: extracted text -> overlapping chunks.

Pure and deterministic: the same text and settings always give the same
chunks, so a re-chunk of unchanged text keeps every chunk id. Any change to
the output for some input is a new `CHUNKER_VERSION` (docs/urls.md).

Offsets are `str` indexes (Unicode code points) into the text exactly as
given: `chunk.text == text[chunk.start:chunk.end]`.
"""

from __future__ import annotations

import bisect
import hashlib
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from domain.chunks import errors
from domain.chunks.boundaries import Boundaries, find_boundaries, first_in, last_in

CHUNKER_VERSION = 1
MIN_SIZE = 200
MAX_SIZE = 8000
_ZERO_WIDTH_JOINER = "\u200d"


@dataclass(frozen=True)
class ChunkSettings:
    """Chunk size and overlap in characters (a project's settings)."""

    size: int = 1000
    overlap: int = 150

    def __post_init__(self) -> None:
        if not _is_int(self.size) or not MIN_SIZE <= self.size <= MAX_SIZE:
            raise errors.InvalidChunkSize(
                f"chunk size must be an integer from {MIN_SIZE} to {MAX_SIZE}"
            )
        # Below half the size, so each chunk moves at least half a chunk on.
        if not _is_int(self.overlap) or not 0 <= 2 * self.overlap < self.size:
            raise errors.InvalidChunkOverlap(
                "chunk overlap must be an integer from 0 to less than half the size"
            )


@dataclass(frozen=True)
class Chunk:
    """One piece of a text: `text == source[start:end]`, hashed with SHA-256."""

    ordinal: int
    start: int
    end: int
    text: str
    text_hash: str


def split(text: str, settings: ChunkSettings) -> list[Chunk]:
    """Split a text into chunks at the strongest boundary that fills them.

    Whitespace-only text gives no chunks. Each chunk is at most `settings.size`
    characters, starts and ends on a non-space character, and shares at most
    `settings.overlap` characters (starting on a word) with the previous one.
    """
    return [
        Chunk(ordinal, start, end, text[start:end], text_hash(text[start:end]))
        for ordinal, (start, end) in enumerate(_Splitter(text, settings).spans())
    ]


def text_hash(text: str) -> str:
    """SHA-256 hex of the UTF-8 text (lone surrogates passed through, never failing)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def chunk_id(url_id: uuid.UUID, chunker_version: int, ordinal: int, text_hash: str) -> uuid.UUID:
    """A chunk's id: unique per URL, stable for the same text at the same place."""
    return uuid.uuid5(url_id, f"{chunker_version}:{ordinal}:{text_hash}")


class _Splitter:
    """The greedy walk over one text; a class only to share its boundaries."""

    def __init__(self, text: str, settings: ChunkSettings) -> None:
        self.text = text
        self.size = settings.size
        self.overlap = settings.overlap
        self.bounds: Boundaries = find_boundaries(text)
        self.stop = len(text.rstrip())  # trailing whitespace belongs to no chunk

    def spans(self) -> Iterator[tuple[int, int]]:
        start = len(self.text) - len(self.text.lstrip())
        while start < self.stop:
            end = self._end(start)
            yield start, end
            if end >= self.stop:
                return
            start = self._next_start(start, end)

    def _end(self, start: int) -> int:
        """Where the chunk starting at `start` ends (exclusive)."""
        limit = start + self.size
        if limit >= self.stop:
            return self.stop
        # A paragraph or sentence end counts only in the window's second half:
        # an early one would leave a short chunk where a fuller one fits.
        half = start + self.size // 2
        for candidates in (self.bounds.paragraph_ends, self.bounds.sentence_ends):
            if (found := last_in(candidates, half, limit)) is not None:
                return found
        if (found := last_in(self.bounds.word_ends, start, limit)) is not None:
            return found
        return self._hard_cut(start, limit)

    def _hard_cut(self, start: int, limit: int) -> int:
        """The one break inside a word: no word ends within `size` characters.

        Keeps the size bound (an embedder's input limit) over keeping a
        base64 blob or a spaceless run whole; steps back so a combining mark or
        a joined emoji stays with its base character.
        """
        cut = limit
        while cut > start + 1 and _joined(self.text[cut - 1], self.text[cut]):
            cut -= 1
        return cut if cut > start + 1 else limit

    def _next_start(self, start: int, end: int) -> int:
        """Where the chunk after [start, end) starts.

        The earliest sentence start, else word start, within `overlap` before
        `end` that still lets the next chunk reach past `end`; else the first
        non-space character from `end` on (no overlap).
        """
        if self.overlap:
            low = max(end - self.overlap, start + 1)
            for starts in (self.bounds.sentence_starts, self.bounds.word_starts):
                found = first_in(starts, low, end)
                if found is not None and self._end(found) > end:
                    return found
        if not self.text[end].isspace():  # right after a hard cut
            return end
        starts = self.bounds.word_starts
        return starts[bisect.bisect_left(starts, end)]


def _joined(before: str, after: str) -> bool:
    return unicodedata.category(after).startswith("M") or _ZERO_WIDTH_JOINER in (before, after)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
