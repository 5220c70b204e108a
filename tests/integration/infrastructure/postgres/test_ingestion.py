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


def test_robots_txt_blocks_what_it_disallows_and_lets_the_rest_in(url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "private").mkdir(parents=True)
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    body = corpus_file(PAGE).read_bytes()
    (site / "open.html").write_bytes(body)
    (site / "private" / "closed.html").write_bytes(body)
    with serving(site) as base:
        trawl = start(url, str(tmp_path / "data"), fetch_allow_private_networks=True)
        try:
            open_id, closed_id = add(trawl, [base + "open.html", base + "private/closed.html"])
            with following(trawl):
                trawl.start_workers(1)

                def settled() -> bool:
                    statuses = {trawl.store.load(Url, i).status for i in (open_id, closed_id)}
                    return statuses in ({CHUNKED, "blocked"}, {VECTORIZED, "blocked"})

                wait_until(settled, timeout=30, what="one URL chunked, one blocked")
            closed = trawl.store.load(Url, closed_id)
            assert (closed.status, closed.last_error, closed.versions) == ("blocked", "robots", [])
            assert trawl.store.load(Url, open_id).status in (CHUNKED, VECTORIZED)
        finally:
            close_soon(trawl)


def test_a_refresh_of_an_unchanged_page_is_a_304_and_keeps_the_chunks(
    url: str, tmp_path: Path
) -> None:
    page = corpus_file(PAGE)
    with serving(page.parent) as base:
        trawl = start(url, str(tmp_path), fetch_allow_private_networks=True)
        try:
            owner = Caller.user(uuid.uuid4(), "user")
            project = trawl.projects.create(owner, "Refreshed").id
            items = trawl.urls.add_many(owner, project, [base + page.name]).extra["items"]
            url_id = uuid.UUID(items[0]["id"])
            with following(trawl):
                trawl.start_workers(1)
                wait_until(
                    lambda: trawl.store.load(Url, url_id).status == VECTORIZED,
                    timeout=30,
                    what="the first fetch",
                )
                chunked = trawl.store.load(Url, url_id)
                trawl.urls.refresh(owner, url_id)

                def refreshed() -> bool:
                    current = trawl.store.load(Url, url_id)
                    return current.status == VECTORIZED and current.version > chunked.version + 1

                wait_until(refreshed, timeout=30, what="the refresh to settle")
            stored = trawl.store.recorder.select_notifications(1, limit=10_000)
            events = [n.topic for n in stored]
            [unchanged] = [
                trawl.store.mapper.to_domain_event(n)
                for n in stored
                if n.topic == "trawl:url.unchanged"
            ]
            assert unchanged.not_modified  # the server answered 304 to If-Modified-Since
            assert events.count("trawl:url.fetched") == 1
            after = trawl.store.load(Url, url_id)
            assert after.current_version == 1 and after.chunking == chunked.chunking
        finally:
            close_soon(trawl)
