"""A project may only be set to an embedding model this deployment can run."""

from __future__ import annotations

import pytest

from application.auth.principal import Caller
from application.projects.commands import ProjectCommands
from domain.projects.aggregate import Project
from domain.vectorization.models import InvalidModelId, ModelUnavailable
from infrastructure.embedding.registry import EmbedderRegistry
from interfaces.bootstrap import Trawl

pytestmark = pytest.mark.unit

SHIPPED = "wordllama/l2_supercat-256"
NOT_SHIPPED = "wordllama/l2_supercat-128"  # well formed, but no weights in the wheel
TITAN = "bedrock/amazon.titan-embed-text-v2:0/512"


def test_the_registry_knows_which_models_it_can_run() -> None:
    registry = EmbedderRegistry()
    assert registry.usable(SHIPPED)
    assert not registry.usable(NOT_SHIPPED)
    assert registry.usable(TITAN)  # a remote service: Bedrock decides


def test_a_model_the_deployment_cannot_run_is_refused_and_nothing_written(
    trawl: Trawl, owner: Caller
) -> None:
    commands = ProjectCommands(
        trawl.store, trawl.projects.policy, usable_model=EmbedderRegistry().usable
    )
    project = commands.create(owner, "Models").id
    version = trawl.store.load(Project, project).version

    with pytest.raises(ModelUnavailable):
        commands.change_settings(owner, project, {"embedding_model": NOT_SHIPPED})

    assert trawl.store.load(Project, project).version == version
    commands.change_settings(owner, project, {"embedding_model": TITAN})
    assert trawl.store.load(Project, project).embedding_model == TITAN
    assert ModelUnavailable.slug == "invalid-model"  # answered as 422 invalid-model


def test_a_second_spelling_of_the_deployment_default_fails_at_start(trawl: Trawl) -> None:
    with pytest.raises(InvalidModelId, match="wordllama/l2_supercat-256"):
        ProjectCommands(
            trawl.store, trawl.projects.policy, default_model="wordllama/l2_supercat-0256"
        )
