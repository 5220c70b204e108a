import pytest

from application.auth.principal import Caller
from application.projects.commands import PreconditionFailed
from application.store import CommandResult, NotFound
from domain.projects import errors as projects_errors
from domain.projects.aggregate import Project
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import failures, new_caller, run_in_threads

pytestmark = pytest.mark.integration


def settled(trawl: Trawl, result: CommandResult) -> CommandResult:
    """Wait until every view has applied the command (read-your-writes)."""
    assert trawl.positions.wait(trawl.views, result.position, timeout=10)
    return result


def test_a_created_project_is_listed_once_the_views_reach_its_position(trawl: Trawl) -> None:
    owner = new_caller()

    result = settled(trawl, trawl.projects.create(owner, "Research", "fish"))

    [listed] = trawl.project_queries.list(owner).items
    assert (listed.id, listed.name, listed.description, listed.version) == (
        result.id,
        "Research",
        "fish",
        1,
    )
    assert listed.role == "owner"


def test_the_lifecycle_shows_in_the_view(trawl: Trawl) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Research").id
    trawl.projects.update(owner, project_id, name="Renamed", expected_version=1)
    settled(trawl, trawl.projects.archive(owner, project_id))

    project = trawl.project_queries.get(owner, project_id)
    assert (project.name, project.status, project.version) == ("Renamed", "archived", 3)

    settled(trawl, trawl.projects.delete(owner, project_id))
    with pytest.raises(NotFound):
        trawl.project_queries.get(owner, project_id)
    assert trawl.project_queries.list(owner).items == []


def test_pagination_over_postgres_covers_each_project_once(trawl: Trawl) -> None:
    owner = new_caller()
    ids = {trawl.projects.create(owner, f"P {n}").id for n in range(7)}
    settled(trawl, trawl.projects.create(new_caller(), "Someone else's"))

    listed, cursor = [], None
    for _ in range(10):
        page = trawl.project_queries.list(owner, limit=3, cursor=cursor)
        listed += [p.id for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(listed) == sorted(ids)


def test_another_caller_cannot_see_or_change_a_project(trawl: Trawl) -> None:
    owner, stranger = new_caller(), new_caller()
    result = settled(trawl, trawl.projects.create(owner, "Private"))

    with pytest.raises(NotFound):
        trawl.project_queries.get(stranger, result.id)
    with pytest.raises(NotFound):
        trawl.projects.archive(stranger, result.id)
    assert trawl.project_queries.list(stranger).items == []


def test_concurrent_updates_with_one_if_match_let_exactly_one_win(trawl: Trawl) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Research").id

    results = run_in_threads(
        6, lambda i: trawl.projects.update(owner, project_id, name=f"W{i}", expected_version=1)
    )

    assert sum(isinstance(r, CommandResult) for r in results) == 1
    assert sum(isinstance(r, PreconditionFailed) for r in results) == 5
    assert trawl.store.load(Project, project_id).version == 2


def test_concurrent_updates_without_if_match_are_retried_and_all_land(trawl: Trawl) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Research").id

    results = run_in_threads(
        4, lambda i: trawl.projects.update(owner, project_id, description=f"D{i}")
    )

    assert failures(results) == []
    assert sorted(r.version for r in results) == [2, 3, 4, 5]
    assert trawl.store.load(Project, project_id).version == 5


def test_an_archived_project_refuses_changes_on_postgres_too(trawl: Trawl) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Research").id
    trawl.projects.archive(owner, project_id)

    with pytest.raises(projects_errors.ProjectArchived):
        trawl.projects.update(owner, project_id, name="Nope")


def test_an_api_key_caller_acts_for_its_user(trawl: Trawl) -> None:
    owner = new_caller()
    assert owner.user_id is not None
    via_key = Caller.api_key(owner.user_id, "user", owner.user_id)

    result = settled(trawl, trawl.projects.create(via_key, "Research"))

    assert trawl.project_queries.get(owner, result.id).name == "Research"
    [created] = trawl.store.events.get(result.id)
    assert created.actor == via_key.actor  # type: ignore[attr-defined]
