import uuid
from typing import Any

import pytest

from application.projections.base import DictRows
from application.projections.projects import TABLE, ProjectsProjection
from domain.common import Context, event_classes
from domain.projects.aggregate import Project
from domain.users.aggregate import User

pytestmark = pytest.mark.unit

CTX = Context("user:owner", "corr")


def apply(events: list[Any], rows: DictRows | None = None) -> DictRows:
    rows = rows or DictRows()
    projection = ProjectsProjection()
    for event in events:
        projection.process(event, rows)
    return rows


def project_rows(rows: DictRows) -> dict[Any, dict[str, Any]]:
    return rows.tables.get(TABLE, {})


@pytest.fixture
def project() -> Project:
    return Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Research", "fish")


def test_topics_are_every_project_event() -> None:
    assert set(ProjectsProjection.topics) == {c.TOPIC for c in event_classes(Project)}  # type: ignore[attr-defined]


def test_created_inserts_a_row(project: Project) -> None:
    [created] = project.collect_events()

    rows = apply([created])

    assert project_rows(rows)[(project.id,)] == {
        "id": project.id,
        "owner_id": project.owner_id,
        "name": "Research",
        "description": "fish",
        "status": "active",
        "chunk_size": 1000,
        "chunk_overlap": 150,
        "refresh_interval_seconds": None,
        "embedding_model": "wordllama/l2_supercat-256",
        "version": 1,
        "created_at": created.timestamp,
        "updated_at": created.timestamp,
    }


def test_renamed_and_description_changed_update_the_row(project: Project) -> None:
    project.rename(CTX, "Fisheries")
    project.change_description(CTX, "boats")
    events = project.collect_events()

    row = project_rows(apply(events))[(project.id,)]

    assert (row["name"], row["description"], row["version"]) == ("Fisheries", "boats", 3)
    assert row["updated_at"] == events[-1].timestamp
    assert row["created_at"] == events[0].timestamp


def test_archived_then_restored_changes_the_status(project: Project) -> None:
    project.archive(CTX)
    archived = apply(project.collect_events())
    assert project_rows(archived)[(project.id,)]["status"] == "archived"

    project.restore(CTX)
    restored = apply(project.collect_events(), archived)

    row = project_rows(restored)[(project.id,)]
    assert (row["status"], row["version"]) == ("active", 3)


def test_deleted_removes_the_row(project: Project) -> None:
    other = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Other")
    project.delete(CTX)

    rows = apply(project.collect_events() + other.collect_events())

    assert list(project_rows(rows)) == [(other.id,)]


def test_an_event_for_a_project_never_created_in_the_view_changes_nothing(
    project: Project,
) -> None:
    project.collect_events()
    project.rename(CTX, "Orphan")
    project.archive(CTX)

    rows = apply(project.collect_events())

    assert project_rows(rows) == {}


def test_events_of_no_interest_change_nothing() -> None:
    user = User.register(CTX, uuid.uuid4(), "ada@example.org", "Ada")

    rows = apply(user.collect_events())

    assert rows.tables == {}


def test_keys_name_the_projects_row_an_event_reads(project: Project) -> None:
    project.rename(CTX, "Renamed")
    created, renamed = project.collect_events()

    assert ProjectsProjection().keys(created) == []  # a new row: nothing to read
    assert ProjectsProjection().keys(renamed) == [(TABLE, (project.id,))]
