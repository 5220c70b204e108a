import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from domain.common import ACTOR_PATTERN, Context, event_id
from domain.projects import errors
from domain.projects.aggregate import ACTIVE, ARCHIVED, DELETED, Project

pytestmark = pytest.mark.unit

CTX = Context("user:ada", "corr-1")


def new_project() -> Project:
    project = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Research", "fish")
    project.collect_events()
    return project


def archived_project() -> Project:
    project = new_project()
    project.archive(CTX)
    project.collect_events()
    return project


def deleted_project() -> Project:
    project = new_project()
    project.delete(CTX)
    project.collect_events()
    return project


def test_a_new_project_is_active_and_owned() -> None:
    owner = uuid.uuid4()

    project = Project.create(CTX, uuid.uuid4(), owner, "Research")

    assert project.status == ACTIVE
    assert project.owner_id == owner
    assert project.version == 1


def test_rename_records_renamed_and_changes_the_name() -> None:
    project = new_project()

    assert project.rename(CTX, "Fisheries") is True

    [event] = project.collect_events()
    assert isinstance(event, Project.Renamed)
    assert event.name == project.name == "Fisheries"


def test_rename_to_the_same_name_after_trimming_records_nothing() -> None:
    project = new_project()

    assert project.rename(CTX, "  Research ") is False
    assert project.collect_events() == []


def test_unchanged_description_records_nothing() -> None:
    project = new_project()

    assert project.change_description(CTX, " fish ") is False
    assert project.collect_events() == []


def test_archive_makes_the_project_read_only() -> None:
    project = archived_project()

    assert project.status == ARCHIVED
    with pytest.raises(errors.ProjectArchived):
        project.rename(CTX, "Other")
    with pytest.raises(errors.ProjectArchived):
        project.change_description(CTX, "other")
    with pytest.raises(errors.ProjectArchived):
        project.archive(CTX)
    assert project.collect_events() == []
    assert (project.name, project.description) == ("Research", "fish")


def test_restore_makes_an_archived_project_writable_again() -> None:
    project = archived_project()

    project.restore(CTX)
    project.rename(CTX, "Back")

    assert project.status == ACTIVE
    assert [type(e) for e in project.collect_events()] == [Project.Restored, Project.Renamed]


def test_restore_of_an_active_project_is_refused() -> None:
    project = new_project()

    with pytest.raises(errors.ProjectNotArchived):
        project.restore(CTX)
    assert project.collect_events() == []


@pytest.mark.parametrize("make", [new_project, archived_project])
def test_delete_works_from_active_and_archived(make: Callable[[], Project]) -> None:
    project = make()

    project.delete(CTX)

    assert project.status == DELETED
    assert project.is_deleted
    assert [type(e) for e in project.collect_events()] == [Project.Deleted]


@pytest.mark.parametrize(
    "command",
    [
        lambda p: p.rename(CTX, "Other"),
        lambda p: p.change_description(CTX, "other"),
        lambda p: p.archive(CTX),
        lambda p: p.restore(CTX),
        lambda p: p.delete(CTX),
    ],
    ids=["rename", "change_description", "archive", "restore", "delete"],
)
def test_deleted_is_terminal(command: Callable[[Project], Any]) -> None:
    project = deleted_project()

    with pytest.raises(errors.ProjectDeleted):
        command(project)

    assert project.collect_events() == []
    assert project.status == DELETED


def test_every_event_carries_actor_correlation_causation_and_time() -> None:
    ctx = Context("key:k-1", "corr-42", causation_id="cause-7")
    project = Project.create(ctx, uuid.uuid4(), uuid.uuid4(), "Research")
    project.rename(ctx, "Renamed")
    project.change_description(ctx, "new")
    project.archive(ctx)
    project.restore(ctx)
    project.delete(ctx)

    events = project.collect_events()

    assert len(events) == 6
    for event in events:
        assert event.actor == "key:k-1"
        assert event.correlation_id == "corr-42"
        assert event.causation_id == "cause-7"
        assert isinstance(event.timestamp, datetime)
        assert event.timestamp.tzinfo is not None
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)


def test_a_context_without_causation_records_none() -> None:
    project = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Research")

    [created] = project.collect_events()

    assert created.causation_id is None
    assert created.actor == "user:ada"


@pytest.mark.parametrize("actor", ["ada", "user:", "robot:1", "user:a b", ""])
def test_a_context_refuses_an_untagged_actor(actor: str) -> None:
    with pytest.raises(ValueError):
        Context(actor, "corr")


@pytest.mark.parametrize("actor", ["user:1", "key:k_2", "link:l.3", "system:worker"])
def test_a_context_accepts_each_tagged_actor_kind(actor: str) -> None:
    assert Context(actor, "corr").actor == actor
    assert ACTOR_PATTERN.match(actor)


def test_system_context_names_the_component_and_gets_a_correlation_id() -> None:
    ctx = Context.system("scheduler")

    assert ctx.actor == "system:scheduler"
    assert ctx.correlation_id
    assert Context.system("scheduler").correlation_id != ctx.correlation_id


def test_event_ids_are_derived_from_aggregate_id_and_version() -> None:
    aggregate_id = uuid.uuid4()

    assert event_id(aggregate_id, 3) == event_id(aggregate_id, 3)
    assert event_id(aggregate_id, 3) != event_id(aggregate_id, 4)
    assert event_id(aggregate_id, 3) != event_id(uuid.uuid4(), 3)
    assert event_id(aggregate_id, 3).version == 5
