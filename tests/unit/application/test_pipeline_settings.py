"""The pipeline and project settings, robots.txt, pauses and refresh (in memory)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from application.ports import Extracted, FetchError
from application.store import TrawlStore
from application.urls.pipeline import (
    BLOCKED,
    DONE,
    FAILED,
    PAUSED,
    RETRY,
    STALE,
    VECTORIZE,
    Pipeline,
)
from domain.chunks.splitter import ChunkSettings
from domain.common import Context, DomainError
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url
from tests.unit.application.pipeline_fakes import (
    PROJECT,
    FakeClock,
    FakeExtractor,
    FakeFetcher,
    MemoryBlobs,
    added_url,
    article,
    ensure_project,
    memory_store,
    page,
    topics,
)

pytestmark = pytest.mark.unit
CTX = Context.system("test")


class FakeRobots:
    def __init__(self, answer: bool | FetchError) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def allowed(self, url: str) -> bool:
        self.asked.append(url)
        if isinstance(self.answer, FetchError):
            raise self.answer
        return self.answer


class TitledExtractor(FakeExtractor):
    def extract(
        self, body: bytes, *, url: str, content_type: str, chunking: ChunkSettings | None = None
    ) -> Extracted:
        found = super().extract(body, url=url, content_type=content_type, chunking=chunking)
        return replace(found, title="  A   page\ntitle ")


@pytest.fixture
def store() -> TrawlStore:
    return memory_store()


def make(store: TrawlStore, *answers: object, robots: FakeRobots | None = None) -> Pipeline:
    return Pipeline(
        store,
        FakeFetcher(*answers),  # type: ignore[arg-type]
        TitledExtractor(),
        MemoryBlobs(),
        FakeClock(),
        jitter=lambda: 0.0,
        robots=robots,
    )


def change(store: TrawlStore, **settings: object) -> None:
    project = ensure_project(store)
    project.change_settings(CTX, replace(project.settings, **settings))  # type: ignore[arg-type]
    store.commit(project)


def through(pipeline: Pipeline, url_id: uuid.UUID) -> None:
    assert pipeline.fetch(url_id, uuid.uuid4(), 1).step == "extract"
    assert pipeline.extract(url_id, 1).step == VECTORIZE  # text and chunks in one commit
    assert pipeline.chunk(url_id, 1).step == VECTORIZE  # nothing new; vectors still missing


def test_chunks_use_the_projects_settings(store: TrawlStore) -> None:
    url_id = added_url(store)
    change(store, chunk_size=400, chunk_overlap=40)

    through(make(store, page(article())), url_id)

    chunking = store.load(Url, url_id).chunking
    assert chunking is not None and (chunking.size, chunking.overlap) == (400, 40)


def test_rechunk_after_a_settings_change_records_new_chunks_once(store: TrawlStore) -> None:
    url_id = added_url(store)
    pipeline = make(store, page(article()))
    through(pipeline, url_id)
    before = store.load(Url, url_id).chunking
    change(store, chunk_size=300, chunk_overlap=0)

    assert pipeline.chunk(url_id, None).step == VECTORIZE  # new chunks: embed them
    assert pipeline.chunk(url_id, None).step == VECTORIZE  # same settings: nothing new

    after = store.load(Url, url_id).chunking
    assert before is not None and after is not None
    assert (after.size, after.overlap) == (300, 0)
    assert len(after.chunks) > len(before.chunks)
    assert topics(store).count("trawl:url.chunked") == 2


def test_the_extractors_title_is_recorded_on_one_line(store: TrawlStore) -> None:
    url_id = added_url(store)
    through(make(store, page(article())), url_id)
    assert store.load(Url, url_id).title == "A page title"


def test_an_extraction_failure_is_an_event_and_the_url_fails(store: TrawlStore) -> None:
    url_id = added_url(store)
    pipeline = make(store, page(b"<html><body>no paragraphs</body></html>"))

    assert pipeline.fetch(url_id, uuid.uuid4(), 1).step == "extract"
    outcome = pipeline.extract(url_id, 1)

    url = store.load(Url, url_id)
    assert (outcome.step, outcome.reason) == (FAILED, "empty")
    assert (url.status, url.last_error) == ("failed", "empty")
    assert "trawl:url.extraction_failed" in topics(store)


def test_robots_disallow_blocks_the_url_without_fetching_it(store: TrawlStore) -> None:
    url_id = added_url(store)
    robots = FakeRobots(False)
    pipeline = make(store, robots=robots)  # no answer queued: fetching would fail

    outcome = pipeline.fetch(url_id, uuid.uuid4(), 1)

    url = store.load(Url, url_id)
    assert outcome.step == BLOCKED
    assert (url.status, url.last_error) == ("blocked", "robots")
    assert robots.asked == [url.url]


def test_unreachable_robots_is_retried_not_blocked(store: TrawlStore) -> None:
    url_id = added_url(store)
    unreachable = FetchError("robots-unreachable", "503", transient=True)
    outcome = make(store, robots=FakeRobots(unreachable)).fetch(url_id, uuid.uuid4(), 1)

    url = store.load(Url, url_id)
    assert outcome.step == RETRY
    assert (url.status, url.last_error) == ("pending", "robots-unreachable")


def test_an_archived_projects_fetch_is_paused_and_records_nothing(store: TrawlStore) -> None:
    url_id = added_url(store)
    project = ensure_project(store)
    project.archive(CTX)
    store.commit(project)
    before = topics(store)

    assert make(store).fetch(url_id, uuid.uuid4(), 1).step == PAUSED
    assert topics(store) == before


def test_a_deleted_projects_fetch_is_stale(store: TrawlStore) -> None:
    url_id = added_url(store)
    project = ensure_project(store)
    project.delete(CTX)
    store.commit(project)

    assert make(store).fetch(url_id, uuid.uuid4(), 1).step == STALE


def test_refresh_schedules_a_fetch_only_when_the_project_refreshes(store: TrawlStore) -> None:
    url_id = added_url(store)
    pipeline = make(store, page(article()))
    through(pipeline, url_id)

    assert pipeline.refresh(url_id).step == STALE  # refresh is off
    change(store, refresh_interval_seconds=3600)
    assert pipeline.refresh(url_id).step == DONE
    url = store.load(Url, url_id)
    assert (url.status, url.schedule_reason) == ("pending", "refresh")
    assert pipeline.refresh(url_id).step == STALE  # a fetch already waits


def test_settings_changes_are_one_event_per_kind(store: TrawlStore) -> None:
    project = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "P")
    wanted = replace(
        project.settings, chunk_size=500, embedding_model="bedrock/amazon.titan-embed-text-v2:0/256"
    )

    assert project.change_settings(CTX, wanted) == ["chunking", "embedding_model"]
    assert project.change_settings(CTX, wanted) == []
    assert project.settings == wanted


def test_invalid_settings_are_refused() -> None:
    project = Project.create(CTX, PROJECT, uuid.uuid4(), "P")
    for wrong in (
        {"chunk_size": 50},
        {"chunk_overlap": 600},
        {"refresh_interval_seconds": 5},
        {"embedding_model": "no slash"},
    ):
        with pytest.raises(DomainError):
            project.change_settings(CTX, replace(project.settings, **wrong))  # type: ignore[arg-type]


def test_a_redirect_into_a_disallowed_page_blocks_the_url(store: TrawlStore) -> None:
    url_id = added_url(store)
    pipeline = make(
        store, FetchError("robots-disallowed", "https://x/private"), robots=FakeRobots(True)
    )

    assert pipeline.fetch(url_id, uuid.uuid4(), 1).step == BLOCKED
    assert store.load(Url, url_id).status == "blocked"
