"""`rebuild --check` on Postgres: equal after a workload, differences named, nothing swapped."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.audit.checks import rebuild_check
from application.store import NotFound
from domain.common import DomainError
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import execute, new_caller, query

pytestmark = pytest.mark.integration


def workload(trawl: Trawl) -> None:
    owner = new_caller()
    for n in range(4):
        project = trawl.projects.create(owner, f"P{n}").id
        trawl.urls.add_many(owner, project, [f"https://example.com/{n}/{i}" for i in range(3)])
        trawl.shares.create_link(owner, project, "viewer", 3600)
        if n == 1:
            trawl.projects.archive(owner, project)
        if n == 2:
            trawl.projects.delete(owner, project)
    for projector in trawl.projectors:
        projector.catch_up()


def test_every_view_rebuilds_equal_to_the_live_one(trawl: Trawl) -> None:
    workload(trawl)
    findings = rebuild_check(trawl.rebuild_checks)
    views = {f"view {p.view}" for p in trawl.projectors if p.view != "search"}
    assert {f.check for f in findings} == views | {"search index"}
    assert all(f.ok for f in findings), findings


def test_a_live_row_the_log_does_not_justify_is_reported(trawl: Trawl, url: str) -> None:
    workload(trawl)
    execute(url, "UPDATE projects SET name = 'Corrupted' WHERE name = 'P0'")
    execute(url, "DELETE FROM urls WHERE url LIKE 'https://example.com/3/%%'")
    findings = {f.check: f for f in rebuild_check(trawl.rebuild_checks)}
    projects, urls = findings["view projects"], findings["view urls"]
    assert not projects.ok and "Corrupted" in "\n".join(projects.details)
    assert not urls.ok and urls.details[0] == "urls: 3 rows differ"
    assert findings["view access"].ok
    # Nothing swapped, nothing left behind.
    assert query(url, "SELECT name FROM projects WHERE name = 'Corrupted'")
    assert not query(url, "SELECT tablename FROM pg_tables WHERE tablename LIKE '%%__check'")


def test_the_live_view_may_trail_the_log_when_checked(trawl: Trawl) -> None:
    workload(trawl)
    trawl.projects.create(new_caller(), "Not yet projected")
    assert all(f.ok for f in rebuild_check(trawl.rebuild_checks))


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["create", "rename", "add_urls", "remove_url", "link", "revoke", "archive",
             "restore", "delete"]
        ),
        st.integers(0, 5),
    ),
    min_size=5,
    max_size=60,
)  # fmt: skip


def random_workload(trawl: Trawl, operations: list[tuple[str, int]]) -> None:
    owner = new_caller()
    projects: list[Any] = []
    urls: dict[Any, list[Any]] = {}
    links: dict[Any, list[Any]] = {}
    for step, (operation, pick) in enumerate(operations):
        if operation == "create" or not projects:
            projects.append(trawl.projects.create(owner, f"P{step}").id)
            continue
        project = projects[pick % len(projects)]
        try:
            if operation == "rename":
                trawl.projects.update(owner, project, name=f"R{step}")
            elif operation == "add_urls":
                added = trawl.urls.add_many(
                    owner, project, [f"https://e.com/{step}/{i}" for i in range(pick)]
                )
                urls.setdefault(project, []).extend(
                    i["id"] for i in added.extra["items"] if "id" in i
                )
            elif operation == "remove_url" and urls.get(project):
                trawl.urls.remove(owner, uuid.UUID(str(urls[project][pick % len(urls[project])])))
            elif operation == "link":
                links.setdefault(project, []).append(
                    trawl.shares.create_link(owner, project, "viewer", 3600).id
                )
            elif operation == "revoke" and links.get(project):
                trawl.shares.revoke_link(owner, project, links[project].pop())
            elif operation in ("archive", "restore", "delete"):
                getattr(trawl.projects, operation)(owner, project)
        except (DomainError, NotFound):  # refused by the rules (archived, deleted, ...)
            pass


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_rebuild_check_finds_no_difference_after_a_random_workload(
    trawl: Trawl, operations: list[tuple[str, int]]
) -> None:
    random_workload(trawl, operations)
    for projector in trawl.projectors:
        projector.catch_up()
    findings = rebuild_check(trawl.rebuild_checks)
    assert all(f.ok for f in findings), findings
