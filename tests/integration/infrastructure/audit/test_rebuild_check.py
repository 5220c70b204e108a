"""`rebuild --check` on Postgres: equal after a workload, differences named, nothing swapped."""

from __future__ import annotations

import pytest

from application.audit.checks import rebuild_check
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
    assert {f.check for f in findings} == {f"view {p.schema.name}" for p in trawl.projectors}
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
