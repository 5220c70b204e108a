"""The scheduler on Postgres: re-chunk on new chunking, refresh jobs, wake on restore."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from application.auth.principal import Caller
from application.projects.commands import UNSET
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import execute, projector, query

pytestmark = pytest.mark.integration


def project_with_urls(trawl: Trawl, count: int) -> tuple[Caller, uuid.UUID, list[uuid.UUID]]:
    owner = Caller.user(uuid.uuid4(), "user")
    project = trawl.projects.create(owner, "Scheduled").id
    urls = [f"https://site{n}.example/page" for n in range(count)]
    items = trawl.urls.add_many(owner, project, urls).extra["items"]
    return owner, project, [uuid.UUID(item["id"]) for item in items]


def jobs(url: str, kind: str) -> dict[uuid.UUID, dict[str, object]]:
    rows = query(
        url,
        "SELECT subject_id, host, payload, not_before - now() AS wait FROM trawl_jobs"
        " WHERE kind = %s",
        (kind,),
    )
    return {row["subject_id"]: row for row in rows}


def settings(**given: object) -> dict[str, object]:
    names = ("chunk_size", "chunk_overlap", "refresh_interval_seconds", "embedding_model")
    return {name: given.get(name, UNSET) for name in names}


def test_new_chunking_queues_a_chunk_job_per_url_of_the_project(trawl: Trawl, url: str) -> None:
    owner, project, ids = project_with_urls(trawl, 3)
    _, _, others = project_with_urls(trawl, 1)
    scheduler = projector(trawl, "scheduler")
    scheduler.catch_up()
    assert jobs(url, "chunk") == {}

    trawl.projects.change_settings(owner, project, settings(chunk_size=500))
    scheduler.catch_up()

    queued = jobs(url, "chunk")
    assert set(queued) == set(ids) and others[0] not in queued
    assert all(row["payload"] == {} for row in queued.values())  # the current version


def test_turning_refresh_on_queues_refresh_jobs_one_interval_ahead(trawl: Trawl, url: str) -> None:
    owner, project, ids = project_with_urls(trawl, 2)
    scheduler = projector(trawl, "scheduler")

    trawl.projects.change_settings(owner, project, settings(refresh_interval_seconds=3600))
    scheduler.catch_up()

    queued = jobs(url, "refresh")
    assert set(queued) == set(ids)
    for row in queued.values():
        wait = row["wait"]
        assert isinstance(wait, timedelta)
        assert timedelta(minutes=55) < wait <= timedelta(hours=1)


def test_restoring_a_project_makes_its_postponed_fetches_due(trawl: Trawl, url: str) -> None:
    owner, project, _ = project_with_urls(trawl, 2)
    scheduler = projector(trawl, "scheduler")
    scheduler.catch_up()
    execute(url, "UPDATE trawl_jobs SET not_before = now() + interval '10 minutes'")
    trawl.projects.archive(owner, project)
    trawl.projects.restore(owner, project)

    scheduler.catch_up()

    waits = [row["wait"] for row in jobs(url, "fetch").values()]
    assert len(waits) == 2
    assert all(isinstance(w, timedelta) and w <= timedelta(0) for w in waits)


def test_a_new_embedding_model_queues_a_vectorize_job_per_url(trawl: Trawl, url: str) -> None:
    owner, project, ids = project_with_urls(trawl, 2)
    scheduler = projector(trawl, "scheduler")
    titan = "bedrock/amazon.titan-embed-text-v2:0/512"

    trawl.projects.change_settings(owner, project, settings(embedding_model=titan))
    scheduler.catch_up()

    queued = jobs(url, "vectorize")
    assert set(queued) == set(ids)
    assert all(row["payload"] == {} for row in queued.values())  # the current version
