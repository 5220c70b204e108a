"""Scheduling and ingestion on Postgres: Added -> one fetch job -> chunked."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from application.auth.principal import Caller
from domain.urls.aggregate import Url
from domain.urls.values import CHUNKED, VECTORIZED
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    close_soon,
    following,
    projector,
    query,
    start,
    wait_until,
)
from tests.support.corpus import corpus_file
from tests.support.site import serving

pytestmark = pytest.mark.integration

PAGE = "html/httpd-docs/caching.html"


def add(trawl: Trawl, urls: list[str]) -> list[uuid.UUID]:
    owner = Caller.user(uuid.uuid4(), "user")
    project = trawl.projects.create(owner, "Ingest").id
    items = trawl.urls.add_many(owner, project, urls).extra["items"]
    return [uuid.UUID(item["id"]) for item in items]


def fetch_jobs(url: str) -> list[dict[str, object]]:
    return query(url, "SELECT subject_id, host, attempts FROM trawl_jobs WHERE kind = 'fetch'")


def test_an_added_url_is_fetched_extracted_and_chunked(url: str, tmp_path: Path) -> None:
    page = corpus_file(PAGE)
    with serving(page.parent) as base:
        trawl = start(url, str(tmp_path), fetch_allow_private_networks=True)
        try:
            [url_id] = add(trawl, [base + page.name])
            with following(trawl):
                trawl.start_workers(1)

                def chunked() -> bool:
                    return trawl.store.load(Url, url_id).status in (CHUNKED, VECTORIZED)

                wait_until(chunked, timeout=30, what="the URL to be chunked")
            ingested = trawl.store.load(Url, url_id)
            assert ingested.current_version == 1 and ingested.chunking is not None
            assert ingested.chunking.chunks
            assert (tmp_path / "blobs").is_dir()
        finally:
            close_soon(trawl)


def test_the_scheduler_queues_one_fetch_per_added_url_with_its_host(trawl: Trawl, url: str) -> None:
    ids = add(trawl, ["https://example.com/a", "https://example.org/b"])
    scheduler = projector(trawl, "scheduler")
    assert scheduler.catch_up() > 0
    jobs = {row["subject_id"]: row["host"] for row in fetch_jobs(url)}
    assert jobs == {ids[0]: "example.com", ids[1]: "example.org"}
    assert scheduler.catch_up() == 0  # caught up: nothing is queued again


def test_a_replayed_batch_queues_nothing_twice(trawl: Trawl, url: str) -> None:
    """A crash before commit rolls back the jobs with the position; the replay queues once."""

    class Crash(BaseException):
        pass

    [url_id] = add(trawl, ["https://example.com/a"])
    scheduler = projector(trawl, "scheduler")
    datastore = scheduler.datastore
    with pytest.raises(Crash), datastore.transaction(commit=True) as curs:
        assert scheduler.run_batch(curs) > 0
        raise Crash
    assert fetch_jobs(url) == []
    assert scheduler.position() == 0
    scheduler.catch_up()
    scheduler.catch_up()
    assert [row["subject_id"] for row in fetch_jobs(url)] == [url_id]
