"""Extraction in child processes gives what the extractor gives in-process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.ports import ExtractionFailed
from infrastructure.extraction.pool import PooledExtractor
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from tests.support.corpus import HTML
from tests.support.waiting import eventually

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


ORPHANING = """
import os
from infrastructure.extraction.pool import PooledExtractor
pool = PooledExtractor(2)
for started in pool.warm():
    started.result()  # every child is up
tasks = f"/proc/{os.getpid()}/task"
print(" ".join(open(f"{tasks}/{t}/children").read() for t in os.listdir(tasks)), flush=True)
os._exit(0)  # dies without shutting the pool down, as a killed process would
"""


def test_the_children_end_when_their_parent_dies_without_closing_the_pool() -> None:
    root = Path(__file__).resolve().parents[4]
    done = subprocess.run(
        [sys.executable, "-c", ORPHANING], cwd=root, capture_output=True, text=True, check=True
    )
    children = [int(pid) for pid in done.stdout.split()]
    assert children

    def running(pid: int) -> bool:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended

    def ended() -> bool:
        return not any(running(pid) for pid in children)

    eventually(ended, timeout=15, what="the orphaned extraction processes to end", pause=0.2)
