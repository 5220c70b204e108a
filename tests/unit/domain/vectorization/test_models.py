"""Model ids name provider, model and dimensions; anything else is refused."""

from __future__ import annotations

import uuid

import pytest

from domain.common import Context
from domain.projects.aggregate import Project
from domain.projects.settings import ProjectSettings
from domain.vectorization.models import InvalidModelId, ModelId, parse_model_id

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("wordllama/l2_supercat-256", ModelId("wordllama", "l2_supercat", 256)),
        (
            "bedrock/amazon.titan-embed-text-v2:0/512",
            ModelId("bedrock", "amazon.titan-embed-text-v2:0", 512),
        ),
    ],
)
def test_known_ids_parse_and_print_back(raw: str, parsed: ModelId) -> None:
    assert parse_model_id(raw) == parsed
    assert str(parsed) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "wordllama",
        "wordllama/l2_supercat-300",
        "bedrock/amazon.titan-embed-text-v2:0/300",
        "bedrock/cohere.embed-english-v3/1024",
        "openai/text-embedding-3-small/512",
        "wordllama/l2_supercat-256; drop table",
    ],
)
def test_other_ids_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidModelId, match=r"\w"):
        parse_model_id(raw)


def test_the_slug_is_fit_for_a_table_name() -> None:
    assert parse_model_id("bedrock/amazon.titan-embed-text-v2:0/512").slug == (
        "bedrock_amazon_titan_embed_text_v2_0_512"
    )


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("wordllama/l2_supercat-0256", "wordllama/l2_supercat-256"),
        ("bedrock/amazon.titan-embed-text-v2:0/0512", "bedrock/amazon.titan-embed-text-v2:0/512"),
    ],
)
def test_a_project_setting_takes_one_spelling_of_a_model(raw: str, canonical: str) -> None:
    # The id keys the vector cache and names the search table: a second spelling
    # would be a second model sharing the first one's table.
    assert str(parse_model_id(raw)) == canonical
    with pytest.raises(InvalidModelId, match=canonical):
        Project.create(Context.system("test"), uuid.uuid4(), uuid.uuid4(), "P", embedding_model=raw)
    project = Project.create(Context.system("test"), uuid.uuid4(), uuid.uuid4(), "P")
    with pytest.raises(InvalidModelId, match=canonical):
        project.change_settings(Context.system("test"), ProjectSettings(embedding_model=raw))


def test_a_project_recorded_with_another_spelling_still_loads() -> None:
    # Recorded before one spelling was asked for: replayed as it is, and its
    # owner can still move it to the canonical id.
    project = Project.create(Context.system("test"), uuid.uuid4(), uuid.uuid4(), "P")
    project.embedding_model = "wordllama/l2_supercat-0256"  # as its old Created replays
    assert project.settings.embedding_model == "wordllama/l2_supercat-0256"
    canonical = ProjectSettings(embedding_model="wordllama/l2_supercat-256")
    assert project.change_settings(Context.system("test"), canonical) == ["embedding_model"]
