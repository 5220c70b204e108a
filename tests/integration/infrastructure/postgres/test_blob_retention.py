"""Blob retention on Postgres: what no live version references goes, the rest stays."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from application.auth.principal import Caller
from application.urls.pipeline import Pipeline
from application.urls.retention import sweep
from domain.urls.aggregate import Url
from infrastructure.blobs.local import LocalBlobStore
from infrastructure.postgres.blobs_view import BlobDeletionCheck, PostgresBlobReferences
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import execute, projector
from tests.unit.application.pipeline_fakes import FakeExtractor, FakeFetcher, article, page

pytestmark = pytest.mark.integration
OWNER = Caller.user(uuid.uuid4(), "user")


def ingested(trawl: Trawl, blobs: LocalBlobStore, body: bytes) -> tuple[uuid.UUID, uuid.UUID]:
    """A new project with one URL fetched, extracted and chunked: (project, url)."""
    project = trawl.projects.create(OWNER, "Kept").id
    items = trawl.urls.add_many(OWNER, project, ["https://example.com/a"]).extra["items"]
    url_id = uuid.UUID(items[0]["id"])
    pipeline = Pipeline(trawl.store, FakeFetcher(page(body)), FakeExtractor(), blobs)
    assert pipeline.fetch(url_id, uuid.uuid4(), 1).step == "extract"
    assert pipeline.extract(url_id, 1).step == "vectorize"
    return project, url_id


def cached_vectors(trawl: Trawl, url_id: uuid.UUID) -> int:
    """How many cached-vector references the URL's chunks hold (one per distinct text)."""
    chunking = trawl.store.load(Url, url_id).chunking
    assert chunking is not None
    return len({chunk.text_hash for chunk in chunking.chunks})


def age_releases(url: str) -> None:
    """As if the removals and deletions happened eight days ago."""
    execute(url, "UPDATE blob_urls SET released_at = released_at - interval '8 days'")
    execute(url, "UPDATE blob_projects SET deleted_at = deleted_at - interval '8 days'")


def test_blobs_of_deleted_projects_go_after_retention_unless_still_shared(
    trawl: Trawl, url: str, tmp_path: Path
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    references = PostgresBlobReferences(projector(trawl, "blobs").datastore)
    gone, gone_url = ingested(trawl, blobs, article(seed="gone"))
    ingested(trawl, blobs, article(seed="shared"))  # content of a live project...
    deleted_too, _ = ingested(trawl, blobs, article(seed="shared"))  # ...also held here
    trawl.projects.delete(OWNER, gone)
    trawl.projects.delete(OWNER, deleted_too)
    projector(trawl, "blobs").catch_up()
    before = set(blobs.keys())
    assert len(before) == 4  # two raw pages and two texts

    check = BlobDeletionCheck(references.datastore, timedelta(days=7))
    assert sweep(references, blobs, timedelta(days=7)) == 0  # within retention
    waiting = check.run(gone, [])
    assert not waiting.ok and "kept until" in waiting.summary
    age_releases(url)
    # Its raw page and text, and the cached vectors of its chunks.
    assert sweep(references, blobs, timedelta(days=7)) == 2 + cached_vectors(trawl, gone_url)

    kept = set(blobs.keys())
    assert len(kept) == 2 and kept < before
    assert references.held_by_project(gone) == []
    assert check.run(gone, []).ok and check.run(deleted_too, []).ok
    assert references.held_by_project(deleted_too) == []  # the shared content is the live one's


def test_a_removed_url_lets_go_and_a_revived_one_holds_again(
    trawl: Trawl, url: str, tmp_path: Path
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    references = PostgresBlobReferences(projector(trawl, "blobs").datastore)
    project, url_id = ingested(trawl, blobs, article(seed="solo"))
    trawl.urls.remove(OWNER, url_id)
    trawl.urls.add_many(OWNER, project, ["https://example.com/a"])  # revived
    projector(trawl, "blobs").catch_up()
    age_releases(url)
    assert sweep(references, blobs, timedelta(days=7)) == 0

    trawl.urls.remove(OWNER, url_id)
    projector(trawl, "blobs").catch_up()
    age_releases(url)
    assert sweep(references, blobs, timedelta(days=7)) == 2 + cached_vectors(trawl, url_id)
    assert list(blobs.keys()) == []
