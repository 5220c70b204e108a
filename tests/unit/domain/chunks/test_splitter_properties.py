"""Properties of the v1 splitter over generated text (hypothesis).

A "word" here is what the splitter promises not to cut: two neighbouring
non-space characters, neither of them CJK (a CJK character is a word).
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chunks.boundaries import is_cjk
from domain.chunks.splitter import Chunk, ChunkSettings, split

pytestmark = pytest.mark.unit

WORDS = st.text("abcdefghijklmnopqrstuvwxyzÉé\u0301-'", min_size=1, max_size=12)
PIECES = st.one_of(
    WORDS,
    st.text("日本語文章東京かなカナ한국어", min_size=1, max_size=30),
    st.text("x", min_size=150, max_size=600),  # longer than some chunk sizes
    st.sampled_from([" ", " ", " ", "\n", "\n\n", "\r\n\r\n", "\t", "  \n ", "\u3000", "\u2029"]),
    st.sampled_from([".", "!", "?", "…", "。", "\uff01", "\uff1f", "」", ")", '."', ","]),
    st.text(max_size=8),  # anything at all, controls and odd spaces included
)
SEPARATORS = st.sampled_from([" "] * 8 + [". ", "! ", "\n", "\n\n", "。", " \n\n  "])
PROSE = st.lists(st.tuples(WORDS, SEPARATORS).map("".join), max_size=200).map("".join)
TEXTS = st.one_of(
    st.lists(PIECES, max_size=400).map("".join),
    st.text(max_size=600),
    # Repeats make long texts cheaply, and several chunks with them.
    st.tuples(PROSE | st.lists(PIECES, max_size=40).map("".join), st.integers(1, 20)).map(
        lambda repeated: repeated[0] * repeated[1]
    ),
)


@st.composite
def chunk_settings(draw: st.DrawFn) -> ChunkSettings:
    size = draw(st.integers(200, 500))
    return ChunkSettings(size, draw(st.integers(0, (size - 1) // 2)))


def inside_word(text: str, index: int) -> bool:
    if not 0 < index < len(text):
        return False
    before, after = text[index - 1], text[index]
    return not (before.isspace() or after.isspace() or is_cjk(before) or is_cjk(after))


@given(TEXTS, chunk_settings())
def test_same_text_and_settings_give_the_same_chunks(text: str, settings: ChunkSettings) -> None:
    assert split(text, settings) == split(text, settings)


@given(TEXTS, chunk_settings())
def test_chunks_are_exact_slices_with_their_hash(text: str, settings: ChunkSettings) -> None:
    for chunk in split(text, settings):
        assert chunk.text == text[chunk.start : chunk.end]
        digest = hashlib.sha256(chunk.text.encode("utf-8", "surrogatepass")).hexdigest()
        assert chunk.text_hash == digest


@given(TEXTS, chunk_settings())
def test_chunks_are_non_empty_trimmed_bounded_and_numbered(
    text: str, settings: ChunkSettings
) -> None:
    chunks = split(text, settings)
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 < len(chunk.text) <= settings.size
        assert chunk.text == chunk.text.strip()


@given(TEXTS, chunk_settings())
def test_every_non_space_character_is_in_a_chunk(text: str, settings: ChunkSettings) -> None:
    covered: set[int] = set()
    for chunk in split(text, settings):
        covered.update(range(chunk.start, chunk.end))
    assert {index for index, char in enumerate(text) if not char.isspace()} <= covered


@given(TEXTS, chunk_settings())
def test_consecutive_chunks_move_on_and_overlap_at_most_the_overlap(
    text: str, settings: ChunkSettings
) -> None:
    chunks = split(text, settings)
    for previous, chunk in itertools.pairwise(chunks):
        assert previous.start < chunk.start and previous.end < chunk.end
        assert previous.end - chunk.start <= settings.overlap


@given(TEXTS, chunk_settings())
def test_a_word_is_cut_only_when_no_space_is_within_reach(
    text: str, settings: ChunkSettings
) -> None:
    chunks = split(text, settings)
    for previous, chunk in zip([None, *chunks], chunks, strict=False):
        if inside_word(text, chunk.end):
            assert_hard_cut(text, chunk, settings)
        if inside_word(text, chunk.start):
            # Only where the previous chunk was cut, and right there.
            assert previous is not None and previous.end == chunk.start
            assert_hard_cut(text, previous, settings)


def assert_hard_cut(text: str, chunk: Chunk, settings: ChunkSettings) -> None:
    reach = text[chunk.start : chunk.start + settings.size + 1]
    assert not any(char.isspace() for char in reach)
