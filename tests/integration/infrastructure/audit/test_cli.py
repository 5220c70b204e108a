"""The audit's commands end to end: rebuild --check, users forget, deletion-report."""

from __future__ import annotations

from pathlib import Path

import pytest

from interfaces.bootstrap import Trawl
from interfaces.cli.main import main
from tests.integration.infrastructure.postgres.helpers import PASSWORD, execute, new_caller

pytestmark = pytest.mark.integration


def test_rebuild_check_answers_zero_when_equal_and_one_with_a_difference(
    trawl: Trawl, url: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trawl.projects.create(new_caller(), "Checked")
    for projector in trawl.projectors:
        projector.catch_up()
    assert main(["rebuild", "--check"]) == 0
    assert "[ok] view projects: equal at position 1" in capsys.readouterr().out
    execute(url, "UPDATE projects SET name = 'Edited'")
    assert main(["rebuild", "--check", "--view", "projects"]) == 1
    out = capsys.readouterr().out
    assert "[DIFFERS] view projects" in out and "view access" not in out


def test_forget_and_the_deletion_report_from_the_command_line(
    trawl: Trawl, url: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from domain.common import Context

    trawl.users.register(Context.system("test"), "cli@example.org", PASSWORD, "Cli")
    assert main(["users", "forget", "cli@example.org"]) == 0
    assert "forgotten:" in capsys.readouterr().out
    owner = new_caller()
    project = trawl.projects.create(owner, "Doomed").id
    trawl.urls.add_many(owner, project, ["https://example.com/doomed"])
    trawl.projects.delete(owner, project)
    for projector in trawl.projectors:
        projector.catch_up()
    execute(url, "DELETE FROM trawl_jobs")
    assert main(["audit", "deletion-report", str(project)]) == 0
    out = capsys.readouterr().out
    assert "URLs it ever had: 1" in out and "[ok] Postgres views" in out


def test_rebuild_from_the_command_line_swaps_in_every_view_at_once(
    trawl: Trawl, url: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trawl.projects.create(new_caller(), "Rebuilt")
    for projector in trawl.projectors:
        projector.catch_up()
    execute(url, "UPDATE projects SET name = 'Edited'")

    assert main(["rebuild"]) == 0

    out = capsys.readouterr().out
    assert "rebuilt projects, access, urls, blobs, scheduler: 1 events read" in out
    assert main(["rebuild", "--check"]) == 0
