import uuid
from collections.abc import Callable
from typing import Any

import pytest

from application.auth.principal import Caller
from application.projects.commands import PreconditionFailed
from application.store import NotFound
from domain.projects import errors as projects_errors
from domain.projects.aggregate import Project
from interfaces.bootstrap import Trawl

pytestmark = pytest.mark.unit

COMMANDS: dict[str, Callable[[Trawl, Caller, uuid.UUID], Any]] = {
    "update": lambda t, c, p: t.projects.update(c, p, name="Taken over"),
    "archive": lambda t, c, p: t.projects.archive(c, p),
    "restore": lambda t, c, p: t.projects.restore(c, p),
    "delete": lambda t, c, p: t.projects.delete(c, p),
}


def test_create_answers_id_version_and_position(trawl: Trawl, owner: Caller) -> None:
    head = trawl.store.head()

    result = trawl.projects.create(owner, "  Research ", "about fish")

    assert (result.version, result.position) == (1, head + 1)
    project = trawl.store.load(Project, result.id)
    assert (project.name, project.description, project.owner_id) == (
        "Research",
        "about fish",
        owner.user_id,
    )
    assert result.body() == {"id": str(result.id), "version": 1, "position": head + 1}


def test_events_record_the_callers_actor_and_correlation(trawl: Trawl, owner: Caller) -> None:
    via_key = Caller.api_key(owner.user_id, owner.role, uuid.uuid4())

    result = trawl.projects.create(via_key, "Research", correlation_id="req-7")
    trawl.projects.update(owner, result.id, name="Renamed", correlation_id="req-8")

    created, renamed = trawl.store.events.get(result.id)
    assert (created.actor, created.correlation_id) == (via_key.actor, "req-7")  # type: ignore[attr-defined]
    assert (renamed.actor, renamed.correlation_id) == (owner.actor, "req-8")  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_another_caller_gets_not_found_and_changes_nothing(
    trawl: Trawl, owner: Caller, stranger: Caller, command: Callable[..., Any]
) -> None:
    project = trawl.projects.create(owner, "Research")
    trawl.projects.archive(owner, project.id)  # so restore would be allowed for the owner
    head = trawl.store.head()

    with pytest.raises(NotFound):
        command(trawl, stranger, project.id)

    assert trawl.store.head() == head


def test_an_unknown_project_is_not_found(trawl: Trawl, owner: Caller) -> None:
    with pytest.raises(NotFound):
        trawl.projects.update(owner, uuid.uuid4(), name="x")


def test_a_user_aggregate_is_not_a_project(trawl: Trawl, owner: Caller) -> None:
    with pytest.raises(NotFound):
        trawl.projects.archive(owner, owner.user_id)


def test_if_match_mismatch_is_a_precondition_failure(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")
    trawl.projects.update(owner, project.id, name="Second")
    head = trawl.store.head()

    with pytest.raises(PreconditionFailed):
        trawl.projects.update(owner, project.id, name="Stale", expected_version=1)

    assert trawl.store.head() == head
    assert trawl.store.load(Project, project.id).name == "Second"


@pytest.mark.parametrize("command", ["archive", "delete"])
def test_if_match_applies_to_lifecycle_commands(trawl: Trawl, owner: Caller, command: str) -> None:
    project = trawl.projects.create(owner, "Research")

    with pytest.raises(PreconditionFailed):
        getattr(trawl.projects, command)(owner, project.id, expected_version=7)

    assert trawl.store.load(Project, project.id).status == "active"


def test_if_match_on_the_current_version_applies_the_change(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")

    result = trawl.projects.update(owner, project.id, description="new", expected_version=1)

    assert result.version == 2
    assert trawl.store.load(Project, project.id).description == "new"


def test_update_of_name_and_description_is_one_command(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")

    result = trawl.projects.update(owner, project.id, name="New", description="Desc")

    assert result.version == 3
    assert result.position == trawl.store.head()


def test_an_unchanged_update_writes_nothing(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research", "fish")
    head = trawl.store.head()

    result = trawl.projects.update(owner, project.id, name="Research ", description=" fish")

    assert (result.version, result.position) == (1, head)
    assert trawl.store.head() == head


def test_an_archived_project_refuses_changes_until_restored(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")
    trawl.projects.archive(owner, project.id)

    with pytest.raises(projects_errors.ProjectArchived):
        trawl.projects.update(owner, project.id, name="Nope")
    trawl.projects.restore(owner, project.id)
    trawl.projects.update(owner, project.id, name="Yes")

    assert trawl.store.load(Project, project.id).name == "Yes"


def test_a_deleted_project_is_not_found_even_for_its_owner(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")
    trawl.projects.delete(owner, project.id)

    for command in COMMANDS.values():
        with pytest.raises(NotFound):
            command(trawl, owner, project.id)
    with pytest.raises(NotFound):
        trawl.project_queries.get(owner, project.id)


def test_restoring_an_active_project_is_refused(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")

    with pytest.raises(projects_errors.ProjectNotArchived):
        trawl.projects.restore(owner, project.id)


def test_invalid_names_are_refused(trawl: Trawl, owner: Caller) -> None:
    with pytest.raises(projects_errors.InvalidName):
        trawl.projects.create(owner, "   ")
    assert trawl.project_queries.list(owner).items == []


def test_an_update_with_one_invalid_field_writes_neither(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research", "fish")
    head = trawl.store.head()

    with pytest.raises(projects_errors.InvalidDescription):
        trawl.projects.update(owner, project.id, name="Valid new name", description="bad\x00")

    assert trawl.store.head() == head
    assert trawl.store.load(Project, project.id).name == "Research"
