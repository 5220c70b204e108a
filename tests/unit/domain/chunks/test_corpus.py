"""The splitter on real extracted text: the corpus pages the tests serve."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from domain.chunks.splitter import ChunkSettings, split
from tests.support import corpus

pytestmark = pytest.mark.unit

PAGES = ["readability/medium-3.html", "httpd-docs/developer_API.html"]


class _Text(HTMLParser):
    """Crude tag stripping: enough to get page-sized text, not extraction."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.skipping += tag in {"script", "style"}
        if tag in {"p", "div", "li", "h1", "h2", "h3", "pre", "br", "tr"}:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= self.skipping > 0 and tag in {"script", "style"}

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def page_text(name: str) -> str:
    path = corpus.corpus_file(f"html/{name}")
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return "".join(parser.parts)


@pytest.mark.parametrize("name", PAGES)
def test_a_real_page_chunks_with_exact_offsets_and_bounded_sizes(name: str) -> None:
    # Speed is measured in bench/, never asserted here.
    text = page_text(name)
    chunks = split(text, ChunkSettings())
    assert len(text) > 20_000 and len(chunks) > 10
    assert all(text[chunk.start : chunk.end] == chunk.text for chunk in chunks)
    assert all(len(chunk.text) <= 1000 for chunk in chunks)
