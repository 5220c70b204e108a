"""The audit hash chain on Postgres: written with the events, broken by any edit."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from application.audit.verification import ChainVerifier
from domain.common import Context
from domain.projects.aggregate import Project
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    execute,
    new_caller,
    query,
    run_in_threads,
    scalar,
    start,
)

pytestmark = pytest.mark.integration


def some_history(trawl: Trawl, count: int = 5) -> None:
    owner = new_caller()
    for n in range(count):
        project_id = trawl.projects.create(owner, f"Project {n}").id
        trawl.projects.update(owner, project_id, name=f"Renamed {n}")


def verify(trawl: Trawl) -> tuple[bool, int | None]:
    result = ChainVerifier(trawl.store.audit_log).verify()
    return result.ok, result.first_bad_position


def test_every_event_gets_a_link_and_the_chain_verifies(trawl: Trawl, url: str) -> None:
    some_history(trawl)
    events = scalar(url, "SELECT count(*) FROM trawl_events")
    assert scalar(url, "SELECT count(*) FROM trawl_event_links") == events == 10
    result = ChainVerifier(trawl.store.audit_log).verify()
    assert (result.ok, result.verified, result.last_position) == (True, 10, 10)
    assert result.last_link == trawl.store.audit_log.chain_head()[1]


def test_concurrent_group_commits_keep_one_chain(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    run_in_threads(12, lambda i: trawl.projects.create(owner, f"P{i}"))
    assert scalar(url, "SELECT count(*) FROM trawl_event_links") == 12
    assert verify(trawl) == (True, None)


def test_editing_an_events_bytes_is_found_at_its_position(trawl: Trawl, url: str) -> None:
    some_history(trawl)
    execute(
        url,
        "UPDATE trawl_events SET state = convert_to(replace("
        " convert_from(state, 'UTF8'), 'Renamed 2', 'Renamed X'), 'UTF8')"
        " WHERE notification_id = 6",
    )
    assert (
        scalar(
            url,
            "SELECT position('Renamed X' IN convert_from(state, 'UTF8'))"
            " FROM trawl_events WHERE notification_id = 6",
        )
        > 0
    )
    assert verify(trawl) == (False, 6)


def test_a_deleted_row_is_found(trawl: Trawl, url: str) -> None:
    some_history(trawl)
    execute(url, "DELETE FROM trawl_events WHERE notification_id = 4")
    assert verify(trawl) == (False, 4)


def test_a_deleted_row_with_its_link_breaks_the_next_link(trawl: Trawl, url: str) -> None:
    some_history(trawl)
    execute(url, "DELETE FROM trawl_events WHERE notification_id = 4")
    execute(url, "DELETE FROM trawl_event_links WHERE position = 4")
    assert verify(trawl) == (False, 5)


def test_two_swapped_events_are_found_at_the_first(trawl: Trawl, url: str) -> None:
    some_history(trawl)
    execute(url, "UPDATE trawl_events SET notification_id = -3 WHERE notification_id = 3")
    execute(url, "UPDATE trawl_events SET notification_id = 3 WHERE notification_id = 7")
    execute(url, "UPDATE trawl_events SET notification_id = 7 WHERE notification_id = -3")
    assert verify(trawl) == (False, 3)


def test_a_walk_resumes_from_a_trusted_link(trawl: Trawl) -> None:
    some_history(trawl)
    verifier = ChainVerifier(trawl.store.audit_log)
    first = verifier.verify(upto=4)
    rest = verifier.verify(after=first.last_position, previous=first.last_link)
    assert (first.verified, rest.verified, rest.ok) == (4, 6, True)
    assert not verifier.verify(after=4, previous=b"\x01" * 32).ok


def test_two_processes_writing_in_turn_keep_one_chain(
    trawl: Trawl, url: str, tmp_path: Any
) -> None:
    other = start(url, str(tmp_path / "other"), group_commit=False)
    try:
        owner = new_caller()
        for n in range(6):  # each write follows one by the other process
            (trawl if n % 2 else other).projects.create(owner, f"P{n}")
        run_in_threads(8, lambda i: (trawl if i % 2 else other).projects.create(owner, f"Q{i}"))
    finally:
        other.close()
    assert scalar(url, "SELECT count(*) FROM trawl_event_links") == 14
    assert verify(trawl) == (True, None)


def test_a_rolled_back_batch_leaves_a_hole_the_chain_steps_over(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    project = trawl.projects.create(owner, "First")
    with pytest.raises(IntegrityError):  # a stale version: the insert fails, its position burns
        stale = trawl.store.load(Project, project.id)
        trawl.projects.update(owner, project.id, name="Second")
        stale.rename(Context.system("test"), "Conflicting")
        trawl.store.save(stale)
    trawl.projects.create(owner, "Third")
    positions = [
        r["position"] for r in query(url, "SELECT position FROM trawl_event_links ORDER BY 1")
    ]
    assert positions == [1, 2, 4]
    assert verify(trawl) == (True, None)
