"""The audit's search checks: a rebuilt index equals the live one; a deleted project is gone
(its indexed chunks at once, its cached vectors with its blobs after retention)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.urls.retention import sweep
from infrastructure.lancedb.checks import SearchDeletionCheck, SearchRebuildCheck
from infrastructure.postgres.blobs_view import BlobDeletionCheck, PostgresBlobReferences
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.lancedb.test_search_projection import World, world
from tests.integration.infrastructure.postgres.helpers import execute, projector, scalar
from tests.unit.application.pipeline_fakes import article

pytestmark = pytest.mark.integration
__all__ = ["world"]


def test_a_rebuilt_index_equals_the_live_one_until_a_vector_is_changed(
    world: World, trawl: Trawl
) -> None:
    world.ingest("https://example.com/harbour", article(seed="harbour"))
    world.ingest("https://example.com/cranes", article(seed="cranes"))
    world.project_all()
    check = SearchRebuildCheck(trawl.search_projector)

    same = check.run()
    assert same.ok, same
    assert " 0 chunks" not in f" {same.summary}" and "chunks equal" in same.summary

    table = trawl.search_projector.tables.get("chunks_wordllama_l2_supercat_256_g1")
    table.update(where="ordinal = 0", values={"text": "tampered"})
    changed = check.run()
    assert not changed.ok and changed.details
    assert trawl.search_projector.tables.names(1_000_001) == []  # the scratch is gone


def test_a_deleted_projects_chunks_are_gone_at_once(world: World, trawl: Trawl) -> None:
    url_id = world.ingest("https://example.com/harbour", article(seed="harbour"))
    world.project_all()
    check = SearchDeletionCheck(trawl.search_projector)
    assert not check.run(world.project, [url_id]).ok

    trawl.projects.delete(world.owner, world.project)
    world.project_all()

    assert check.run(world.project, [url_id]).ok


def test_a_deleted_projects_cached_vectors_go_with_its_blobs_after_retention(
    world: World, trawl: Trawl, url: str
) -> None:
    world.ingest("https://example.com/harbour", article(seed="harbour"))
    world.project_all()
    projector(trawl, "blobs").catch_up()
    cached = scalar(url, "SELECT count(*) FROM trawl_vector_cache")
    assert cached > 0

    trawl.projects.delete(world.owner, world.project)
    projector(trawl, "blobs").catch_up()
    execute(url, "UPDATE blob_projects SET deleted_at = deleted_at - interval '8 days'")
    references = PostgresBlobReferences(trawl.search_projector.datastore)
    swept = sweep(
        references, world.blobs, timedelta(days=7), forget_cached=world.vectorizer.cache.forget
    )

    assert swept >= cached + 3  # raw, text and vectors blobs, and every cached vector
    assert scalar(url, "SELECT count(*) FROM trawl_vector_cache") == 0
    check = BlobDeletionCheck(references.datastore, timedelta(days=7))
    assert check.run(world.project, []).ok
