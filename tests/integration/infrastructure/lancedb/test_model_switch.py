"""A project's embedding model changes: the old table answers until the new one
covers every indexed URL, then the project's old rows are deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
import pytest

from application.vectorization.ports import Embedder, EmbeddingFailed, Vectors
from application.vectorization.vectorize import Vectorizer
from domain.urls.aggregate import Url
from infrastructure.embedding.registry import EmbedderRegistry
from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.checks import SearchDeletionCheck, SearchRebuildCheck
from tests.integration.infrastructure.lancedb.test_search_projection import MODEL, World
from tests.integration.infrastructure.lancedb.test_search_projection import world as plain_world
from tests.integration.infrastructure.postgres.helpers import scalar
from tests.unit.application.pipeline_fakes import article

pytestmark = pytest.mark.integration
__all__ = ["plain_world"]

# A second model the tests can embed with offline (only WordLlama's 256
# dimensions ship in its wheel): WordLlama's vectors under another model id,
# their dimensions reversed: the same ranking, but other vectors (another
# blob), as a real second model's would be.
NEW = "bedrock/amazon.titan-embed-text-v2:0/256"


class Renamed:
    def __init__(self, inner: Embedder, model_id: str) -> None:
        self.inner, self.model_id, self.dimensions = inner, model_id, inner.dimensions

    def embed(self, texts: Sequence[str]) -> Vectors:
        return np.ascontiguousarray(self.inner.embed(texts)[:, ::-1])


class TwoModels(EmbedderRegistry):
    def get(self, model_id: str) -> Embedder:
        wordllama = super().get(MODEL)
        return wordllama if model_id == MODEL else Renamed(wordllama, model_id)


@pytest.fixture
def world(plain_world: World) -> World:
    v = plain_world.vectorizer
    plain_world.vectorizer = Vectorizer(v.store, v.blobs, TwoModels(), v.cache)
    return plain_world


def rows(world: World, model: str, project: uuid.UUID | None = None) -> int:
    table = world.trawl.search_projector.tables.get(lance.table_name(model, 1))
    if table is None:
        return 0
    return int(table.count_rows(lance.project_filter(project or world.project)))


def revectorize(world: World, url_id: uuid.UUID, model: str) -> None:
    """What the vectorize job queued by the model change does for one URL."""
    version = world.trawl.store.load(Url, url_id).current_version
    assert version is not None
    world.vectorizer.vectorize(url_id, version, model)
    world.project_all()


def change_model(world: World, model: str) -> None:
    world.trawl.projects.change_settings(world.owner, world.project, {"embedding_model": model})
    world.project_all()


def answering(world: World) -> str:
    # Text mode: the query is not embedded (the app's registry has no fake Titan).
    return world.trawl.search.search(world.owner, world.project, "harbour", 5, "text").model


def test_the_old_model_answers_until_every_indexed_url_has_the_new_vectors(
    world: World,
) -> None:
    harbour = world.ingest("https://example.org/harbour", article(seed="harbour"))
    cranes = world.ingest("https://example.org/cranes", article(seed="cranes"))
    world.project_all()
    change_model(world, NEW)
    assert answering(world) == MODEL

    revectorize(world, harbour, NEW)
    # A page added meanwhile gets the new model only: as many URLs under each
    # model now, but `cranes` has no new vectors yet, so the old ones answer.
    world.ingest("https://example.org/docks", article(seed="docks"), model=NEW)
    world.project_all()
    assert answering(world) == MODEL
    assert world.search("cranes3w4 cranes3w5", "text")[0] == cranes

    revectorize(world, cranes, NEW)
    assert answering(world) == NEW
    assert world.search("cranes3w4 cranes3w5", "text")[0] == cranes
    assert world.search("docks3w4 docks3w5", "text")[0] != harbour


def test_once_switched_the_projects_old_rows_are_deleted_and_checks_agree(
    world: World,
) -> None:
    harbour = world.ingest("https://example.org/harbour", article(seed="harbour"))
    world.project_all()
    other = world.trawl.projects.create(world.owner, "Other").id  # keeps the old model
    world.project, mine = other, world.project
    world.ingest("https://example.org/elsewhere", article(seed="elsewhere"))
    world.project = mine
    world.project_all()
    change_model(world, NEW)
    assert rows(world, MODEL) > 0

    revectorize(world, harbour, NEW)

    assert rows(world, MODEL) == 0
    assert rows(world, NEW) > 0
    assert rows(world, MODEL, other) > 0  # only the switched project's rows went
    projector = world.trawl.search_projector
    checked = SearchRebuildCheck(projector).run()
    assert checked.ok, checked
    world.trawl.projects.delete(world.owner, world.project)
    world.project_all()
    assert SearchDeletionCheck(projector).run(world.project, [harbour]).ok


def one_url_switching(world: World) -> uuid.UUID:
    """One indexed URL, its project switching to the new model."""
    harbour = world.ingest("https://example.org/harbour", article(seed="harbour"))
    world.project_all()
    change_model(world, NEW)
    return harbour


def test_searches_find_the_project_while_its_old_rows_are_deleted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    harbour = one_url_switching(world)
    tables = world.trawl.search_projector.tables
    delete = tables.delete
    found: list[list[uuid.UUID]] = []

    def delete_then_search(names: list[str], where: str) -> None:
        delete(names, where)
        found.append(world.search("harbour3w4 harbour3w5", "text"))

    monkeypatch.setattr(tables, "delete", delete_then_search)
    revectorize(world, harbour, NEW)  # the last URL: the switch completes

    assert found and all(hits[:1] == [harbour] for hits in found)
    assert answering(world) == NEW and rows(world, MODEL) == 0


def test_a_crash_before_the_old_rows_are_deleted_is_mended_by_the_replay(
    world: World, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harbour = one_url_switching(world)
    tables = world.trawl.search_projector.tables
    delete = tables.delete

    def crash(names: list[str], where: str) -> None:
        raise OSError("killed")

    monkeypatch.setattr(tables, "delete", crash)
    with pytest.raises(OSError):
        revectorize(world, harbour, NEW)
    assert answering(world) == NEW  # switched; the old rows and the position wait
    monkeypatch.setattr(tables, "delete", delete)

    world.project_all()

    assert rows(world, MODEL) == 0
    assert scalar(url, "SELECT count(*) FROM trawl_search_urls WHERE model_id <> %s", (NEW,)) == 0
    assert world.search("harbour3w4 harbour3w5", "text")[:1] == [harbour]


def test_switching_back_reuses_the_stored_vectors_of_the_first_model(world: World) -> None:
    """The worker does not embed again what a URL already holds; the projection
    indexes those stored vectors on the change, so the switch back completes."""
    harbour = world.ingest("https://example.org/harbour", article(seed="harbour"))
    world.project_all()
    change_model(world, NEW)
    revectorize(world, harbour, NEW)
    assert rows(world, MODEL) == 0

    change_model(world, MODEL)

    assert answering(world) == MODEL
    assert rows(world, MODEL) > 0 and rows(world, NEW) == 0
    assert world.trawl.url_queries.get(world.owner, harbour).indexed


def test_a_url_revived_unchanged_after_a_model_change_gets_the_new_models_vectors(
    world: World,
) -> None:
    body = article(seed="harbour")
    harbour = world.ingest("https://example.org/harbour", body)
    cranes = world.ingest("https://example.org/cranes", article(seed="cranes"))
    world.project_all()
    world.trawl.urls.remove(world.owner, harbour)
    world.project_all()
    change_model(world, NEW)
    revectorize(world, cranes, NEW)
    assert answering(world) == NEW

    # Added again, the same content: it holds the old model's vectors only.
    assert world.ingest("https://example.org/harbour", body, model=NEW) == harbour
    world.project_all()

    assert world.trawl.url_queries.get(world.owner, harbour).indexed
    assert world.search("harbour3w4 harbour3w5", "text")[0] == harbour


def test_vectors_of_a_model_the_project_left_are_not_indexed(world: World) -> None:
    change_model(world, NEW)
    late = world.ingest("https://example.org/harbour", article(seed="harbour"), model=MODEL)
    world.project_all()

    assert rows(world, MODEL) == 0
    assert not world.trawl.url_queries.get(world.owner, late).indexed

    revectorize(world, late, NEW)
    assert rows(world, NEW) > 0 and answering(world) == NEW


def test_a_late_job_of_a_model_the_project_left_leaves_the_url_indexed(world: World) -> None:
    change_model(world, NEW)
    late = world.ingest("https://example.org/harbour", article(seed="harbour"), model=NEW)
    world.project_all()
    assert world.trawl.url_queries.get(world.owner, late).indexed

    revectorize(world, late, MODEL)  # a job queued before the change records its vectors

    assert rows(world, MODEL) == 0
    assert world.trawl.url_queries.get(world.owner, late).indexed


class RefusesCranes(TwoModels):
    """The new model cannot take the `cranes` page (say, a text Titan refuses)."""

    def get(self, model_id: str) -> Embedder:
        found = super().get(model_id)
        return Refusing(found, "cranes") if model_id == NEW else found


class Refusing(Renamed):
    def __init__(self, inner: Embedder, word: str) -> None:
        super().__init__(inner, NEW)
        self.word = word

    def embed(self, texts: Sequence[str]) -> Vectors:
        if any(self.word in text for text in texts):
            raise EmbeddingFailed("refused", transient=False)
        return self.inner.embed(texts)


def test_a_url_the_new_model_refuses_does_not_hold_the_switch_back(world: World) -> None:
    harbour = world.ingest("https://example.org/harbour", article(seed="harbour"))
    cranes = world.ingest("https://example.org/cranes", article(seed="cranes"))
    world.project_all()
    v = world.vectorizer
    world.vectorizer = Vectorizer(v.store, v.blobs, RefusesCranes(), v.cache)
    change_model(world, NEW)

    revectorize(world, harbour, NEW)
    revectorize(world, cranes, NEW)  # refused: VectorizationFailed

    assert answering(world) == NEW  # the switch did not wait for cranes
    assert rows(world, MODEL) == 0
    refused = world.trawl.url_queries.get(world.owner, cranes)
    assert (refused.status, refused.last_error, refused.indexed) == (
        "failed",
        "embedding-failed",
        False,
    )
    assert world.search("cranes3w4 cranes3w5", "text") == []
    assert SearchRebuildCheck(world.trawl.search_projector).run().ok

    change_model(world, MODEL)  # back to a model cranes has vectors of

    assert answering(world) == MODEL
    assert world.search("cranes3w4 cranes3w5", "text")[0] == cranes
    assert world.trawl.url_queries.get(world.owner, cranes).indexed
    revectorize(world, cranes, MODEL)  # the job the change queued: from the cache
    back = world.trawl.url_queries.get(world.owner, cranes)
    assert (back.status, back.last_error, back.indexed) == ("vectorized", None, True)
