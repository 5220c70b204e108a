"""The deletion report on Postgres: a deleted project's rows leave every view."""

from __future__ import annotations

import pytest

from application.audit.checks import DeletionReporter
from application.store import InvalidRequest
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import execute, new_caller

pytestmark = pytest.mark.integration


def test_a_deleted_project_leaves_no_view_row(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    gone = trawl.projects.create(owner, "Gone").id
    kept = trawl.projects.create(owner, "Kept").id
    for project in (gone, kept):
        trawl.urls.add_many(
            owner, project, [f"https://example.com/{project}/{i}" for i in range(3)]
        )
        trawl.shares.create_link(owner, project, "viewer", 3600)
    trawl.projects.delete(owner, gone)
    for projector in trawl.projectors:
        projector.catch_up()
    execute(url, "DELETE FROM trawl_jobs")  # workers would have taken them

    report = DeletionReporter(trawl.store, trawl.deletion_checks).report(gone)

    assert len(report.url_ids) == 3
    assert report.ok, report.findings
    assert {f.check for f in report.findings} == {
        "Postgres views",
        "blobs",
        "job queue",
        "search index",
    }


def test_a_row_left_behind_is_named(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    gone = trawl.projects.create(owner, "Gone").id
    trawl.urls.add_many(owner, gone, ["https://example.com/a"])
    for projector in trawl.projectors:
        projector.catch_up()
    execute(url, "CREATE TABLE kept_urls AS SELECT * FROM urls")
    trawl.projects.delete(owner, gone)
    for projector in trawl.projectors:
        projector.catch_up()
    execute(url, "INSERT INTO urls SELECT * FROM kept_urls")

    report = DeletionReporter(trawl.store, trawl.deletion_checks).report(gone)

    views = next(f for f in report.findings if f.check == "Postgres views")
    assert not report.ok and not views.ok
    assert views.details == [
        "urls.id: 1 rows refer to the url",
        "urls.project_id: 1 rows refer to the project",
    ]


def test_a_live_project_has_no_deletion_report(trawl: Trawl) -> None:
    project = trawl.projects.create(new_caller(), "Alive").id
    with pytest.raises(InvalidRequest):
        DeletionReporter(trawl.store, trawl.deletion_checks).report(project)
