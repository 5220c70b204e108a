"""The search use case: access first, then the query's bounds; hits carry exact citations."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound
from application.vectorization.ports import Hit
from application.vectorization.search import fragment_url
from infrastructure.memory.search import HashingEmbedder, MemorySearchIndex
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap_memory
from tests.unit.interfaces.http.api import ListMailer

pytestmark = pytest.mark.unit

OLD = "bedrock/amazon.titan-embed-text-v2:0/256"


def hit(url_id: uuid.UUID, text: str, ordinal: int = 0) -> Hit:
    return Hit(
        uuid.uuid4(), url_id, "https://example.org/page", None, text, 0.0, 0, len(text), 1, ordinal
    )


World = tuple[Trawl, Caller, uuid.UUID, MemorySearchIndex]


@pytest.fixture
def world(tmp_path: Path) -> World:
    index = MemorySearchIndex()
    trawl = bootstrap_memory(Settings(data_dir=str(tmp_path)), mailer=ListMailer(), index=index)
    owner = Caller.user(uuid.uuid4(), "user")
    project = trawl.projects.create(owner, "Search").id
    embedder = HashingEmbedder()
    for text in ("harbour cranes lift containers", "bread rises in a warm oven"):
        index.entries.append((project, hit(uuid.uuid4(), text), embedder.embed([text])[0]))
    return trawl, owner, project, index


def test_the_closest_chunk_comes_first_in_every_mode(world: World) -> None:
    trawl, owner, project, _ = world
    for mode in ("hybrid", "vector", "text"):
        found = trawl.search.search(owner, project, "cranes at the harbour", 2, mode)
        assert found.hits[0].hit.text == "harbour cranes lift containers", mode


def test_a_stranger_learns_nothing(world: World) -> None:
    trawl, _, project, _ = world
    with pytest.raises(NotFound):
        trawl.search.search(Caller.user(uuid.uuid4(), "user"), project, "cranes")


@pytest.mark.parametrize(
    ("q", "k", "mode"),
    [
        ("", 10, "hybrid"),
        ("   ", 10, "text"),
        ("x" * 1001, 10, "vector"),
        ("cranes", 0, "hybrid"),
        ("cranes", 101, "hybrid"),
        ("cranes", 10, "fuzzy"),
    ],
)
def test_bad_queries_are_refused(world: tuple, q: str, k: int, mode: str) -> None:  # type: ignore[type-arg]
    trawl, owner, project, _ = world
    with pytest.raises(InvalidRequest):
        trawl.search.search(owner, project, q, k, mode)


def test_a_fragment_link_names_the_chunks_first_and_last_words() -> None:
    text = "Caching - the HTTP way, with headers & validators: fresh responses are served again"
    link = fragment_url("https://example.org/doc#top", text)
    assert link == (
        "https://example.org/doc#:~:text=Caching%20%2D%20the%20HTTP,responses%20are%20served%20again"
    )


def test_a_short_chunk_is_one_fragment() -> None:
    assert fragment_url("https://example.org/", "a, b") == "https://example.org/#:~:text=a%2C%20b"


def test_search_answers_with_the_model_whose_index_is_complete(tmp_path: Path) -> None:
    class Switching(MemorySearchIndex):
        def model_of(self, project_id: uuid.UUID, wanted: str) -> str:
            return OLD  # the project's new model is still being indexed

    trawl = bootstrap_memory(
        Settings(data_dir=str(tmp_path)), mailer=ListMailer(), index=Switching()
    )
    owner = Caller.user(uuid.uuid4(), "user")
    project = trawl.projects.create(owner, "Switching").id

    assert trawl.search.search(owner, project, "cranes").model == OLD
