import uuid

import pytest

from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound
from interfaces.bootstrap import Trawl

pytestmark = pytest.mark.unit


def create(trawl: Trawl, caller: Caller, count: int) -> set[uuid.UUID]:
    return {trawl.projects.create(caller, f"Project {n}").id for n in range(count)}


def all_pages(trawl: Trawl, caller: Caller, limit: int) -> list[list[uuid.UUID]]:
    pages, cursor = [], None
    for _ in range(100):
        page = trawl.project_queries.list(caller, limit=limit, cursor=cursor)
        pages.append([p.id for p in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("pagination does not end")


@pytest.mark.parametrize(("count", "limit"), [(7, 3), (6, 3), (1, 1), (5, 100), (0, 10)])
def test_pagination_returns_every_project_exactly_once(
    trawl: Trawl, owner: Caller, stranger: Caller, count: int, limit: int
) -> None:
    mine = create(trawl, owner, count)
    create(trawl, stranger, 2)

    pages = all_pages(trawl, owner, limit)

    listed = [project_id for page in pages for project_id in page]
    assert sorted(listed) == sorted(mine)
    assert all(len(page) <= limit for page in pages)
    assert len(pages) == max(1, -(-count // limit))  # no empty trailing page


def test_pages_are_ordered_by_id(trawl: Trawl, owner: Caller) -> None:
    create(trawl, owner, 5)

    listed = [i for page in all_pages(trawl, owner, 2) for i in page]

    assert listed == sorted(listed)


def test_a_project_reads_back_with_version_and_timestamps(trawl: Trawl, owner: Caller) -> None:
    result = trawl.projects.create(owner, "Research", "fish")
    trawl.projects.update(owner, result.id, name="Renamed")

    project = trawl.project_queries.get(owner, result.id)

    assert (project.name, project.description, project.status) == ("Renamed", "fish", "active")
    assert project.version == 2
    assert project.owner_id == owner.user_id
    assert project.role == "owner"
    assert project.updated_at > project.created_at


def test_archived_projects_stay_readable(trawl: Trawl, owner: Caller) -> None:
    result = trawl.projects.create(owner, "Research")
    trawl.projects.archive(owner, result.id)

    assert trawl.project_queries.get(owner, result.id).status == "archived"
    assert [p.id for p in trawl.project_queries.list(owner).items] == [result.id]


def test_deleted_projects_disappear_from_lists(trawl: Trawl, owner: Caller) -> None:
    keep = trawl.projects.create(owner, "Keep")
    gone = trawl.projects.create(owner, "Gone")

    trawl.projects.delete(owner, gone.id)

    assert [p.id for p in trawl.project_queries.list(owner).items] == [keep.id]
    with pytest.raises(NotFound):
        trawl.project_queries.get(owner, gone.id)


def test_another_users_project_is_not_found(trawl: Trawl, owner: Caller, stranger: Caller) -> None:
    result = trawl.projects.create(owner, "Private")

    with pytest.raises(NotFound):
        trawl.project_queries.get(stranger, result.id)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_page_size_is_bounded(trawl: Trawl, owner: Caller, limit: int) -> None:
    with pytest.raises(InvalidRequest):
        trawl.project_queries.list(owner, limit=limit)


@pytest.mark.parametrize("cursor", ["not-a-uuid", "123"])
def test_a_malformed_cursor_is_refused(trawl: Trawl, owner: Caller, cursor: str) -> None:
    with pytest.raises(InvalidRequest):
        trawl.project_queries.list(owner, cursor=cursor)
