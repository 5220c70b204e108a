import threading
import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from application.projections.base import Rows
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.postgres import views
from infrastructure.postgres.batches import lock_id
from infrastructure.postgres.projector import Projector, ProjectorGroup
from infrastructure.postgres.projects_view import PostgresProjectsView
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.counting import SCHEMA, CountingProjection
from tests.integration.infrastructure.postgres.helpers import (
    PASSWORD,
    execute,
    new_caller,
    projector,
    query,
    run_in_threads,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """Stands for the process dying mid-batch (not an error the projector may handle)."""


def counting(
    trawl: Trawl, projection: CountingProjection | None = None, **options: Any
) -> Projector:
    counter = Projector(
        trawl.store,
        trawl.store.recorder.datastore,  # type: ignore[attr-defined]
        projection or CountingProjection(),
        SCHEMA,
        **options,
    )
    counter.setup()
    return counter


def make_history(trawl: Trawl) -> dict[uuid.UUID, int]:
    """Projects with a few changes each, user events in between; {project id: version}."""
    owner = new_caller()
    versions = {}
    for n in range(4):
        project_id = trawl.projects.create(owner, f"Project {n}").id
        trawl.users.register(Context.system("t"), f"u{n}@example.org", PASSWORD, "U")
        for m in range(n):
            trawl.projects.update(owner, project_id, name=f"Project {n}.{m}")
        versions[project_id] = n + 1
    return versions


def counts(url: str) -> dict[uuid.UUID, tuple[int, str]]:
    rows = query(url, "SELECT originator_id, applied, versions FROM event_counts")
    return {r["originator_id"]: (r["applied"], r["versions"]) for r in rows}


def expected(versions: dict[uuid.UUID, int]) -> dict[uuid.UUID, tuple[int, str]]:
    return {i: (v, "".join(f"{n}," for n in range(1, v + 1))) for i, v in versions.items()}


def test_catch_up_from_zero_applies_every_event_exactly_once(trawl: Trawl, url: str) -> None:
    versions = make_history(trawl)
    counter = counting(trawl, batch_size=3)

    read = counter.catch_up()

    assert read == trawl.store.head()
    assert counts(url) == expected(versions)
    assert counter.position() == trawl.store.head()


def test_catching_up_again_reads_nothing_and_changes_nothing(trawl: Trawl, url: str) -> None:
    versions = make_history(trawl)
    counter = counting(trawl, batch_size=5)
    counter.catch_up()

    assert counter.catch_up() == 0
    assert counter.run_batch() == 0
    assert counts(url) == expected(versions)


def test_new_events_are_applied_once_on_the_next_catch_up(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Research").id
    counter = counting(trawl)
    counter.catch_up()

    trawl.projects.update(owner, project_id, name="Renamed")
    trawl.projects.archive(owner, project_id)
    counter.catch_up()

    assert counts(url) == {project_id: (3, "1,2,3,")}


def test_skipped_events_count_as_read(trawl: Trawl, url: str) -> None:
    trawl.projects.create(new_caller(), "Research")
    for n in range(3):
        trawl.users.register(Context.system("t"), f"u{n}@example.org", PASSWORD, "U")
    counter = counting(trawl, batch_size=2)

    assert counter.run_batch() == 2  # one project event, one user event
    assert counter.catch_up() == 2
    assert counter.position() == trawl.store.head() == 4
    assert len(counts(url)) == 1


class DiesOnEvent(CountingProjection):
    """Dies at its `fatal`-th event, the way a killed process would."""

    def __init__(self, fatal: int, how: str) -> None:
        self.fatal, self.how, self.seen = fatal, how, 0

    def process(self, event: Any, rows: Rows) -> None:  # type: ignore[override]
        self.seen += 1
        if self.seen == self.fatal:
            if self.how == "kill":
                rows.curs.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # type: ignore[attr-defined]
            raise Crash
        super().process(event, rows)


@pytest.mark.parametrize("how", ["crash", "kill"])
def test_a_crash_mid_batch_leaves_rows_and_position_unchanged(
    trawl: Trawl, url: str, how: str
) -> None:
    versions = make_history(trawl)
    counting(trawl, batch_size=4).run_batch()  # a first batch commits
    before, position = counts(url), counting(trawl).position()

    with pytest.raises((Crash, OperationalError, psycopg.OperationalError)):
        counting(trawl, DiesOnEvent(fatal=2, how=how), batch_size=4).run_batch()

    assert counts(url) == before
    assert counting(trawl).position() == position
    counting(trawl, batch_size=4).catch_up()
    assert counts(url) == expected(versions)


class RefusesPoison(CountingProjection):
    def process(self, event: Any, rows: Rows) -> None:  # type: ignore[override]
        if getattr(event, "name", None) == "Poison":
            raise ValueError("cannot digest this event")
        super().process(event, rows)


def test_a_poison_event_is_parked_and_the_view_moves_on(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    before = trawl.projects.create(owner, "Before").id
    poison = trawl.projects.create(owner, "Poison")
    trawl.projects.update(owner, poison.id, name="Cured")
    after = trawl.projects.create(owner, "After").id
    counter = counting(trawl, RefusesPoison(), batch_size=100)

    counter.catch_up()

    [parked] = query(url, "SELECT view, position, topic, error FROM trawl_parked_events")
    assert (parked["view"], parked["position"]) == ("event_counts", poison.position)
    assert parked["topic"] == Project.Created.TOPIC
    assert "cannot digest this event" in parked["error"]
    # Every other event of the batch, before and after the poison, is applied exactly once.
    assert counts(url) == {before: (1, "1,"), poison.id: (1, "2,"), after: (1, "1,")}
    assert counter.position() == trawl.store.head()


class OverflowsOnPoison(CountingProjection):
    """Writes a value the database refuses (bigint out of range) for the poison event."""

    def process(self, event: Any, rows: Rows) -> None:  # type: ignore[override]
        super().process(event, rows)
        if getattr(event, "name", None) == "Poison":
            key = (event.originator_id,)
            rows.put(
                "event_counts", key, {**(rows.get("event_counts", key) or {}), "applied": 2**70}
            )


def test_an_event_the_database_refuses_is_parked_and_the_batch_survives(
    trawl: Trawl, url: str
) -> None:
    owner = new_caller()
    before = trawl.projects.create(owner, "Before").id
    poison = trawl.projects.create(owner, "Poison")
    after = trawl.projects.create(owner, "After").id
    counter = counting(trawl, OverflowsOnPoison(), batch_size=100)

    counter.catch_up()

    [parked] = query(url, "SELECT position, error FROM trawl_parked_events")
    assert parked["position"] == poison.position
    assert "out of range" in parked["error"]
    assert counts(url) == {before: (1, "1,"), after: (1, "1,")}
    assert counter.position() == trawl.store.head()


def test_an_event_that_cannot_be_decoded_is_parked_too(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    first = trawl.projects.create(owner, "First").id
    broken = uuid.uuid4()
    execute(
        url,
        "INSERT INTO trawl_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, %s, %s)",
        (broken, Project.Created.TOPIC, b"{not json"),
    )
    last = trawl.projects.create(owner, "Last").id
    counter = counting(trawl)

    counter.catch_up()

    assert set(counts(url)) == {first, last}
    [parked] = query(url, "SELECT view, topic FROM trawl_parked_events")
    assert parked == {"view": "event_counts", "topic": Project.Created.TOPIC}
    assert counter.position() == trawl.store.head()


def test_two_projectors_on_one_view_still_apply_each_event_once(trawl: Trawl, url: str) -> None:
    versions = make_history(trawl)
    counters = [counting(trawl, batch_size=2) for _ in range(4)]

    run_in_threads(4, lambda i: counters[i].catch_up())

    assert counts(url) == expected(versions)


def test_the_projects_view_follows_the_aggregates(trawl: Trawl) -> None:
    owner = new_caller()
    kept = trawl.projects.create(owner, "Kept", "fish").id
    trawl.projects.update(owner, kept, name="Kept renamed")
    trawl.projects.archive(owner, kept)
    gone = trawl.projects.create(owner, "Gone").id
    trawl.projects.delete(owner, gone)

    projector(trawl).catch_up()

    view = PostgresProjectsView(trawl.store.recorder.datastore)  # type: ignore[attr-defined]
    row = view.get(kept)
    assert row is not None
    assert (row.name, row.description, row.status, row.version) == (
        "Kept renamed",
        "fish",
        "archived",
        3,
    )
    assert view.get(gone) is None


def test_a_view_built_under_a_suffix_keeps_its_own_position(trawl: Trawl, url: str) -> None:
    trawl.projects.create(new_caller(), "Research")
    live = projector(trawl)
    live.catch_up()

    shadow = Projector(live.store, live.datastore, live.projection, live.schema, suffix="__x")
    shadow.setup()

    assert shadow.position() == 0
    assert shadow.catch_up() == trawl.store.head()
    positions = {
        r["view"]: r["position"]
        for r in query(url, "SELECT view, position FROM trawl_view_positions")
    }
    assert positions["projects"] == positions["projects__x"] == trawl.store.head()
    with live.datastore.transaction(commit=True) as curs:
        views.drop_view(curs, live.schema, "__x")


def test_a_column_added_to_a_view_is_added_to_an_existing_table(trawl: Trawl, url: str) -> None:
    execute(url, "ALTER TABLE urls DROP COLUMN vectors_keys")  # a table from before the column

    projector(trawl, "urls").setup()

    columns = query(
        url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'urls'"
    )
    assert "vectors_keys" in {row["column_name"] for row in columns}


def test_setup_beside_a_running_batch_waits_for_it_and_never_deadlocks(
    trawl: Trawl, url: str
) -> None:
    """A process starting beside a server (`trawl rebuild`) sets its views up
    while a projector batch holds a view's advisory lock and then reads the
    positions: the setup waits for the batch, and takes no lock the batch
    needs (an ALTER TABLE of the positions did, and the two deadlocked)."""
    urls = projector(trawl, "urls")
    urls.setup()
    with psycopg.connect(url, autocommit=False) as batch:
        batch.execute("SET lock_timeout = '10s'")
        batch.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(urls.view),))
        failed: list[BaseException] = []

        def start() -> None:
            try:
                projector(trawl, "urls").setup()
            except BaseException as error:
                failed.append(error)

        starting = threading.Thread(target=start)
        starting.start()
        eventually(  # the setup is now waiting for the advisory lock
            lambda: query(
                url,
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = 0 AND objid = %s",
                (lock_id(urls.view),),
            ),
            what="the setup to wait for the view's advisory lock",
        )
        batch.execute("SELECT count(*) FROM trawl_view_positions").fetchone()
        batch.execute("SELECT count(*) FROM urls").fetchone()
        batch.commit()
        starting.join(timeout=10)
    assert not starting.is_alive()
    assert failed == []


def test_a_group_applies_every_views_events_in_one_batch_and_skips_what_a_view_has(
    trawl: Trawl, url: str
) -> None:
    make_history(trawl)
    first, second = counting(trawl), counting(trawl, suffix="_twin")
    first.catch_up()  # `first` is ahead: the group must not apply anything to it twice
    before = counts(url)
    owner = new_caller()
    for n in range(3):
        trawl.projects.create(owner, f"Later {n}")

    read = ProjectorGroup([first, second]).catch_up()

    head = trawl.store.head()
    assert first.position() == second.position() == head
    assert read > 0
    twin = {r["originator_id"]: r["applied"] for r in query(url, "SELECT * FROM event_counts_twin")}
    assert {k: v[0] for k, v in counts(url).items()} == twin  # the same rows, each event once
    assert len(counts(url)) > len(before)
