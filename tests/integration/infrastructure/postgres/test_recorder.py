import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from application.store import CommandResult
from domain.common import Context
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url
from domain.users import errors as users_errors
from infrastructure.postgres.recorder import TrawlRecorder
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    PASSWORD,
    Writers,
    events_table_locked,
    failures,
    new_caller,
    query,
    run_in_threads,
    start,
    wait_until,
    writers_waiting_on_a_lock,
)

pytestmark = pytest.mark.integration

CTX = Context("user:tester", "corr")


def recorder_of(trawl: Trawl) -> TrawlRecorder:
    recorder = trawl.store.recorder
    assert isinstance(recorder, TrawlRecorder)
    return recorder


def stale_copies(trawl: Trawl, project_id: uuid.UUID, count: int) -> list[Project]:
    """Copies of a project loaded at the same version, each renamed differently."""
    copies = [trawl.store.load(Project, project_id) for _ in range(count)]
    for n, copy in enumerate(copies):
        copy.rename(CTX, f"Writer {n}")
    return copies


def test_an_event_is_appended_and_read_back(trawl: Trawl, url: str) -> None:
    owner = new_caller()

    result = trawl.projects.create(owner, "Research", "fish")

    [notification] = trawl.store.recorder.select_notifications(1, limit=10)
    assert (notification.id, notification.originator_id) == (result.position, result.id)
    assert notification.topic == Project.Created.TOPIC
    [row] = query(url, "SELECT originator_id, originator_version, topic FROM trawl_events")
    assert row == {
        "originator_id": result.id,
        "originator_version": 1,
        "topic": "trawl:project.created",
    }
    project = trawl.store.load(Project, result.id)
    assert (project.name, project.description, project.owner_id) == (
        "Research",
        "fish",
        owner.user_id,
    )
    assert trawl.store.head() == result.position


def test_concurrent_saves_of_one_version_let_exactly_one_win(trawl: Trawl, url: str) -> None:
    project_id = trawl.projects.create(new_caller(), "Research").id
    copies = stale_copies(trawl, project_id, 8)

    results = run_in_threads(8, lambda i: trawl.store.save(copies[i]))

    winners = [i for i, r in enumerate(results) if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert len(losers) == 7
    assert all(isinstance(e, IntegrityError) for e in losers)
    stored = trawl.store.load(Project, project_id)
    assert (stored.version, stored.name) == (2, f"Writer {winners[0]}")
    rows = query(url, "SELECT 1 FROM trawl_events WHERE originator_id = %s", (project_id,))
    assert len(rows) == 2


def test_many_concurrent_commands_each_get_their_own_position(trawl: Trawl, url: str) -> None:
    callers = [new_caller() for _ in range(50)]

    results = run_in_threads(50, lambda i: trawl.projects.create(callers[i], f"Project {i}"))

    assert failures(results) == []
    positions = [r.position for r in results]
    assert len(set(positions)) == 50
    stored = {
        row["notification_id"]: row["originator_id"]
        for row in query(url, "SELECT notification_id, originator_id FROM trawl_events")
    }
    assert {p: r.id for p, r in zip(positions, results, strict=True)} == stored


def test_positions_follow_commit_order_so_readers_never_see_a_gap_fill(
    trawl: Trawl, url: str, tmp_path: Path
) -> None:
    other_process = start(url, str(tmp_path / "other"))
    apps = [trawl, other_process]
    done = threading.Event()
    seen: list[list[int]] = []

    def read() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not done.is_set():
                ids = [r[0] for r in conn.execute("SELECT notification_id FROM trawl_events")]
                seen.append(sorted(ids))

    reader = threading.Thread(target=read)
    reader.start()
    callers = [new_caller() for _ in range(50)]
    try:
        results = run_in_threads(50, lambda i: apps[i % 2].projects.create(callers[i], f"P {i}"))
    finally:
        done.set()
        reader.join()
        other_process.close()

    assert failures(results) == []
    rows = query(url, "SELECT notification_id FROM trawl_events")
    final = sorted(r["notification_id"] for r in rows)
    assert len(final) == 50
    assert seen
    # Everything at or below what a reader saw was already there: nothing was back-filled.
    back_filled = [s for s in seen if s and [i for i in final if i <= s[-1]] != s]
    assert back_filled == []


def test_group_commit_writes_queued_commands_in_one_transaction(trawl: Trawl, url: str) -> None:
    recorder = recorder_of(trawl)
    callers = [new_caller() for _ in range(20)]
    with events_table_locked(url):
        blocker = Writers(1, lambda _: trawl.projects.create(new_caller(), "Blocker"))
        wait_until(lambda: writers_waiting_on_a_lock(url) == 1, what="the committer to block")
        writers = Writers(20, lambda i: trawl.projects.create(callers[i], f"Project {i}"))
        wait_until(lambda: recorder._queue.qsize() == 20, what="20 queued commands")
    [first] = blocker.join()
    results = writers.join()

    assert failures(results) == []
    rows = query(url, "SELECT notification_id, originator_id, xmin::text AS tx FROM trawl_events")
    by_position = {row["notification_id"]: row for row in rows}
    assert len({r.position for r in results}) == 20
    for result in results:
        assert by_position[result.position]["originator_id"] == result.id
    transactions = {by_position[r.position]["tx"] for r in results}
    assert len(transactions) == 1
    assert by_position[first.position]["tx"] not in transactions
    assert first.position < min(r.position for r in results)


def test_a_conflict_in_a_batch_fails_only_its_own_command(trawl: Trawl, url: str) -> None:
    recorder = recorder_of(trawl)
    project_id = trawl.projects.create(new_caller(), "Contested").id
    copies = stale_copies(trawl, project_id, 2)
    callers = [new_caller() for _ in range(10)]

    def command(i: int) -> object:
        if i < 2:
            return trawl.store.save(copies[i])
        return trawl.projects.create(callers[i - 2], f"Bystander {i}")

    with events_table_locked(url):
        blocker = Writers(1, lambda _: trawl.projects.create(new_caller(), "Blocker"))
        wait_until(lambda: writers_waiting_on_a_lock(url) == 1, what="the committer to block")
        writers = Writers(12, command)
        wait_until(lambda: recorder._queue.qsize() == 12, what="12 queued commands")
    blocker.join()
    results = writers.join()

    contested, bystanders = results[:2], results[2:]
    assert sum(isinstance(r, IntegrityError) for r in contested) == 1
    assert failures(bystanders) == []
    for result in bystanders:
        assert trawl.store.load(Project, result.id).name.startswith("Bystander")
    assert trawl.store.load(Project, project_id).version == 2


def test_a_taken_email_in_a_batch_fails_only_that_registration(trawl: Trawl, url: str) -> None:
    recorder = recorder_of(trawl)
    emails = ["same@example.org", "SAME@example.org"] + [f"u{i}@example.org" for i in range(6)]

    def register(i: int) -> CommandResult:
        return trawl.users.register(Context.system("test"), emails[i], PASSWORD, f"User {i}")

    with events_table_locked(url):
        blocker = Writers(1, lambda _: trawl.projects.create(new_caller(), "Blocker"))
        wait_until(lambda: writers_waiting_on_a_lock(url) == 1, what="the committer to block")
        writers = Writers(len(emails), register)
        wait_until(lambda: recorder._queue.qsize() == len(emails), what="queued registrations")
    blocker.join()
    results = writers.join()

    same = results[:2]
    assert sum(isinstance(r, users_errors.EmailTaken) for r in same) == 1
    assert failures(results[2:]) == []
    assert len(query(url, "SELECT 1 FROM trawl_claims")) == 7
    assert len(query(url, "SELECT 1 FROM trawl_principals")) == 7
    users = query(url, "SELECT 1 FROM trawl_events WHERE topic = 'trawl:user.created'")
    assert len(users) == 7


def test_a_rolled_back_insert_leaves_a_hole_and_nothing_breaks(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    first = trawl.projects.create(owner, "First")
    [stale] = stale_copies(trawl, first.id, 1)
    trawl.projects.update(owner, first.id, name="Winner")
    with pytest.raises(IntegrityError):
        trawl.store.save(stale)

    last = trawl.projects.create(owner, "Last")

    positions = [
        r["notification_id"] for r in query(url, "SELECT notification_id FROM trawl_events")
    ]
    assert sorted(positions) != list(range(1, len(positions) + 1))
    assert last.position == trawl.store.head() == max(positions)
    after_first = trawl.store.recorder.select_notifications(first.position + 1, limit=10)
    assert [n.originator_version for n in after_first] == [2, 1]
    for view in trawl.projectors:
        view.catch_up()
        assert view.position() == last.position
    assert trawl.positions.wait(trawl.views, last.position, timeout=10)
    names = {p.name for p in trawl.project_queries.list(owner).items}
    assert names == {"Winner", "Last"}


def test_without_group_commit_concurrent_writers_still_succeed(url: str, tmp_path: Path) -> None:
    app = start(url, str(tmp_path), group_commit=False)
    try:
        callers = [new_caller() for _ in range(10)]
        results = run_in_threads(10, lambda i: app.projects.create(callers[i], f"P {i}"))
    finally:
        app.close()

    assert failures(results) == []
    assert len({r.position for r in results}) == 10


def test_load_many_reads_several_aggregates_in_one_query(trawl: Trawl) -> None:
    owner = new_caller()
    project = trawl.projects.create(owner, "Many").id
    added = trawl.urls.add_many(owner, project, [f"https://example.org/{n}" for n in range(3)])
    ids = [uuid.UUID(item["id"]) for item in added.extra["items"]]

    found = trawl.store.load_many(Url, [*reversed(ids), uuid.uuid4(), project])

    assert set(found) == set(ids)  # the unknown id and the project are absent
    for url_id in ids:
        one = trawl.store.load(Url, url_id)
        assert (found[url_id].version, found[url_id].url) == (one.version, one.url)
    stored = recorder_of(trawl).select_events_of(ids)
    first = trawl.store.load(Url, ids[0])
    assert [e.originator_version for e in stored[ids[0]]] == list(range(1, first.version + 1))
