"""The audit hash chain on Postgres: written with the events, broken by any edit."""

from __future__ import annotations

import pytest

from application.audit.verification import ChainVerifier
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    execute,
    new_caller,
    run_in_threads,
    scalar,
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
