"""The v1 splitter on written examples: where it breaks, and the chunk ids."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from domain.chunks.splitter import CHUNKER_VERSION, Chunk, ChunkSettings, chunk_id, split

pytestmark = pytest.mark.unit

SMALL = ChunkSettings(size=200, overlap=0)

# Two paragraphs of ordinary prose (written for this test).
ARTICLE = """Trawling is an industrial method of fishing that involves pulling a \
fishing net through the water behind one or more boats. The net used for \
trawling is called a trawl. This principle requires netting bags which are \
towed through water to catch different species of fishes or sometimes \
targeted species.

Trawls are often called towed gear or dragged gear. The boats that are used \
for trawling are called trawlers or draggers. Trawlers vary in size from \
small open boats with as little as 30 hp engines to large factory trawlers \
with over 10,000 hp. Trawling can be carried out by one trawler or by two \
trawlers fishing cooperatively (pair trawling).
"""


def texts(chunks: list[Chunk]) -> list[str]:
    return [chunk.text for chunk in chunks]


def test_empty_and_blank_texts_have_no_chunks() -> None:
    assert split("", SMALL) == []
    assert split(" \n\t\u3000\n", SMALL) == []


def test_a_short_text_is_one_chunk_without_its_surrounding_whitespace() -> None:
    [chunk] = split("\n\n  A short text.  \n", SMALL)
    assert (chunk.ordinal, chunk.start, chunk.end, chunk.text) == (0, 4, 17, "A short text.")
    assert chunk.text_hash == hashlib.sha256(b"A short text.").hexdigest()


def test_an_article_breaks_at_its_paragraph_then_at_sentences() -> None:
    chunks = split(ARTICLE, ChunkSettings(size=400, overlap=0))
    assert texts(chunks)[0].endswith("or sometimes targeted species.")
    assert all(chunk.text[-1] in ".)" for chunk in chunks)
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert all(ARTICLE[chunk.start : chunk.end] == chunk.text for chunk in chunks)


def test_the_overlap_starts_at_a_sentence_when_one_is_near() -> None:
    chunks = split(ARTICLE, ChunkSettings(size=300, overlap=120))
    assert chunks[1].start < chunks[0].end
    assert chunks[1].text.startswith("The net used for trawling")


def test_a_sentence_end_in_the_second_half_is_preferred_to_a_later_word_break() -> None:
    text = "x" * 120 + ". " + "word " * 40
    assert split(text, SMALL)[0].text == "x" * 120 + "."


def test_a_sentence_end_in_the_first_half_is_passed_over_for_a_fuller_chunk() -> None:
    text = "First sentence is here. " + "word " * 40
    first = split(text, SMALL)[0]
    assert first.text == "First sentence is here. " + " ".join(["word"] * 35)
    assert len(first.text) == 198


def test_cjk_text_without_spaces_breaks_after_its_sentences() -> None:
    sentence = "日本語の文章です。"
    chunks = split(sentence * 60, ChunkSettings(size=200, overlap=40))
    assert all(chunk.text.endswith("。") or chunk.end == 540 for chunk in chunks)
    assert all(chunk.text.startswith("日") for chunk in chunks)
    assert max(len(chunk.text) for chunk in chunks) <= 200


def test_cjk_chunks_may_open_a_quote_but_never_start_with_closing_punctuation() -> None:
    text = "彼は「これは引用です」と言った、そして々ーと続けた。" * 30
    chunks = split(text, ChunkSettings(size=200, overlap=60))
    assert len(chunks) > 3
    assert all(chunk.text[0] not in "」、。々ー" for chunk in chunks)


def test_a_word_longer_than_the_size_is_cut_only_where_no_space_is_in_reach() -> None:
    text = "short " + "x" * 450 + " tail"
    assert [(c.start, c.end) for c in split(text, ChunkSettings(200, 50))] == [
        (0, 5),
        (6, 206),
        (206, 406),
        (406, 461),
    ]


def test_a_hard_cut_keeps_a_combining_mark_with_its_letter() -> None:
    text = "e" * 199 + "e\u0301" + "e" * 100
    first = split(text, SMALL)[0]
    assert first.end == 199
    assert not first.text.endswith("e\u0301")


def test_chunk_id_is_uuid5_of_url_version_ordinal_and_hash() -> None:
    url = uuid.UUID("12345678-1234-5678-1234-567812345678")
    digest = hashlib.sha256(b"text").hexdigest()
    assert chunk_id(url, 1, 0, digest) == uuid.uuid5(url, f"1:0:{digest}")
    # A change here orphans every stored chunk id: it must never happen.
    assert chunk_id(url, 1, 0, digest) == uuid.UUID("211d3a3d-9fb8-59c7-8c76-c7662681f1e4")


def test_chunk_id_changes_with_each_of_its_inputs() -> None:
    url, digest = uuid.uuid4(), "a" * 64
    ids = {
        chunk_id(url, CHUNKER_VERSION, 0, digest),
        chunk_id(uuid.uuid4(), CHUNKER_VERSION, 0, digest),
        chunk_id(url, CHUNKER_VERSION + 1, 0, digest),
        chunk_id(url, CHUNKER_VERSION, 1, digest),
        chunk_id(url, CHUNKER_VERSION, 0, "b" * 64),
    }
    assert len(ids) == 5
