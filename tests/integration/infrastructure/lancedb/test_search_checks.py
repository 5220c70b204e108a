"""The audit's search checks: a rebuilt index equals the live one; a deleted project is gone."""

from __future__ import annotations

import pytest

from infrastructure.lancedb.checks import SearchDeletionCheck, SearchRebuildCheck
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.lancedb.test_search_projection import World, world
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
