"""Bulk add and remove of URLs, and the urls read model, on the in-memory store."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.auth.errors import Forbidden
from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound
from domain.common import Context
from domain.projects.errors import ProjectArchived
from interfaces.bootstrap import Trawl
from tests.unit.application.helpers import ListMailer, register, token_from, topics

pytestmark = pytest.mark.unit


@pytest.fixture
def project(trawl: Trawl, owner: Caller) -> UUID:
    return trawl.projects.create(owner, "Reef").id


def grantee(trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID, role: str) -> Caller:
    email = f"{role}@example.org"
    user_id = register(trawl, email, role.title())
    trawl.users.verify_email(Context.system("test"), token_from(mailer.to(email)[-1].body))
    trawl.shares.grant(owner, project, email, role)
    return Caller.user(user_id, "user")


def statuses(items: list[dict[str, str]]) -> list[tuple[str, str | None]]:
    return [(item["status"], item.get("reason")) for item in items]


def test_each_url_is_accepted_duplicate_or_rejected_with_its_reason(
    trawl: Trawl, owner: Caller, project: UUID
) -> None:
    result = trawl.urls.add_many(
        owner,
        project,
        [
            "https://Example.com/a?utm_source=x",
            "https://example.com/a",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://" + "a" * 2100 + ".com/",
            "http://",
            "https://example.com/b",
        ],
    )
    items = result.extra["items"]
    assert statuses(items) == [
        ("accepted", None),
        ("duplicate", None),
        ("rejected", "not-http"),
        ("rejected", "credentials"),
        ("rejected", "too-long"),
        ("rejected", "unparsable"),
        ("accepted", None),
    ]
    assert items[0]["id"] == items[1]["id"]
    assert items[0]["url"] == "https://example.com/a"
    assert "id" not in items[2]
    assert result.id == project
    again = trawl.urls.add_many(owner, project, ["https://example.com/b"]).extra["items"]
    assert statuses(again) == [("duplicate", None)]
    assert again[0]["id"] == items[6]["id"]
    page = trawl.url_queries.list(owner, project)
    assert sorted(u.url for u in page.items) == ["https://example.com/a", "https://example.com/b"]
    assert {u.status for u in page.items} == {"pending"}
    assert page.counts["pending"] == 2
    assert page.counts["removed"] == 0


def test_all_new_urls_are_saved_in_one_commit(trawl: Trawl, owner: Caller, project: UUID) -> None:
    before = len(topics(trawl))
    result = trawl.urls.add_many(owner, project, [f"https://example.com/{n}" for n in range(5)])
    added = topics(trawl)[before:]
    assert added == ["trawl:url.added"] * 5
    assert result.position == trawl.store.head()


def test_a_removed_url_is_revived_by_adding_it_again(
    trawl: Trawl, owner: Caller, project: UUID
) -> None:
    [item] = trawl.urls.add_many(owner, project, ["https://example.com/"]).extra["items"]
    url_id = UUID(item["id"])
    trawl.urls.remove(owner, url_id)
    assert trawl.url_queries.get(owner, url_id).status == "removed"
    trawl.urls.remove(owner, url_id)  # again: nothing changes
    [revived] = trawl.urls.add_many(owner, project, ["https://example.com/"]).extra["items"]
    assert revived == {**item, "status": "accepted"}
    assert trawl.url_queries.get(owner, url_id).status == "pending"
    assert topics(trawl).count("trawl:url.revived") == 1
    assert topics(trawl).count("trawl:url.removed") == 1


def test_editors_add_viewers_read_strangers_see_nothing(
    trawl: Trawl, mailer: ListMailer, owner: Caller, stranger: Caller, project: UUID
) -> None:
    editor = grantee(trawl, mailer, owner, project, "editor")
    viewer = grantee(trawl, mailer, owner, project, "viewer")
    [item] = trawl.urls.add_many(editor, project, ["https://example.com/"]).extra["items"]
    url_id = UUID(item["id"])
    assert item["status"] == "accepted"
    with pytest.raises(Forbidden):
        trawl.urls.add_many(viewer, project, ["https://example.com/v"])
    with pytest.raises(Forbidden):
        trawl.urls.remove(viewer, url_id)
    assert trawl.url_queries.get(viewer, url_id).url == "https://example.com/"
    assert len(trawl.url_queries.list(viewer, project).items) == 1
    with pytest.raises(NotFound):
        trawl.urls.add_many(stranger, project, ["https://example.com/s"])
    with pytest.raises(NotFound):
        trawl.urls.remove(stranger, url_id)
    with pytest.raises(NotFound):
        trawl.url_queries.get(stranger, url_id)
    with pytest.raises(NotFound):
        trawl.url_queries.list(stranger, project)


def test_archived_projects_refuse_and_deleted_ones_are_gone(
    trawl: Trawl, owner: Caller, project: UUID
) -> None:
    [item] = trawl.urls.add_many(owner, project, ["https://example.com/"]).extra["items"]
    trawl.projects.archive(owner, project)
    with pytest.raises(ProjectArchived):
        trawl.urls.add_many(owner, project, ["https://example.com/x"])
    with pytest.raises(ProjectArchived):
        trawl.urls.remove(owner, UUID(item["id"]))
    assert len(trawl.url_queries.list(owner, project).items) == 1
    trawl.projects.restore(owner, project)
    trawl.projects.delete(owner, project)
    with pytest.raises(NotFound):
        trawl.urls.add_many(owner, project, ["https://example.com/x"])
    with pytest.raises(NotFound):
        trawl.url_queries.get(owner, UUID(item["id"]))
    with pytest.raises(NotFound):
        trawl.url_queries.list(owner, project)


def test_more_than_a_thousand_urls_are_refused_and_nothing_is_written(
    trawl: Trawl, owner: Caller, project: UUID
) -> None:
    before = trawl.store.head()
    with pytest.raises(InvalidRequest):
        trawl.urls.add_many(owner, project, [f"https://example.com/{n}" for n in range(1001)])
    assert trawl.store.head() == before
    result = trawl.urls.add_many(owner, project, [f"https://example.com/{n}" for n in range(1000)])
    assert len(result.extra["items"]) == 1000


def test_the_list_pages_and_filters_by_status(trawl: Trawl, owner: Caller, project: UUID) -> None:
    items = trawl.urls.add_many(
        owner, project, [f"https://example.com/{n}" for n in range(5)]
    ).extra["items"]
    trawl.urls.remove(owner, UUID(items[0]["id"]))
    first = trawl.url_queries.list(owner, project, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = trawl.url_queries.list(owner, project, limit=10, cursor=first.next_cursor)
    assert len(rest.items) == 3 and rest.next_cursor is None
    removed = trawl.url_queries.list(owner, project, status="removed")
    assert [str(u.id) for u in removed.items] == [items[0]["id"]]
    assert removed.counts["removed"] == 1 and removed.counts["pending"] == 4
    with pytest.raises(InvalidRequest):
        trawl.url_queries.list(owner, project, status="nonsense")
    with pytest.raises(InvalidRequest):
        trawl.url_queries.list(owner, project, cursor="nope")
