"""Extraction in child processes gives what the extractor gives in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.ports import ExtractionFailed
from infrastructure.extraction.pool import PooledExtractor
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from tests.support.corpus import HTML

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def pool() -> Iterator[PooledExtractor]:
    extractor = PooledExtractor(2)
    extractor.warm()
    yield extractor
    extractor.close()


def test_the_children_extract_what_the_parent_would(pool: PooledExtractor) -> None:
    page = sorted(HTML.rglob("*.html"))[0].read_bytes()
    here = TrafilaturaExtractor().extract(page, url="http://x/", content_type="text/html")
    assert pool.extract(page, url="http://x/", content_type="text/html") == here


def test_a_failure_in_a_child_is_the_callers_extraction_failure(pool: PooledExtractor) -> None:
    with pytest.raises(ExtractionFailed) as failed:
        pool.extract(b"<html></html>", url="http://x/", content_type="text/html")
    assert failed.value.reason
