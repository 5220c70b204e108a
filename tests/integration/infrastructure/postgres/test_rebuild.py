import threading
import uuid
from typing import Any

import pytest
from psycopg_pool import PoolTimeout

from application.auth.principal import Caller
from infrastructure.postgres import rebuild as rebuild_module
from infrastructure.postgres.projector import Projector
from infrastructure.postgres.projects_view import PostgresProjectsView
from infrastructure.postgres.rebuild import rebuild, rebuild_all
from infrastructure.postgres.recorder import TrawlRecorder
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    execute,
    following,
    new_caller,
    projector,
    query,
    scalar,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def history(trawl: Trawl, owner: Caller, count: int = 6) -> list[uuid.UUID]:
    """Projects in every state; the ids of the live ones."""
    live = []
    for n in range(count):
        project_id = trawl.projects.create(owner, f"Project {n}", f"about {n}").id
        if n % 3 == 1:
            trawl.projects.update(owner, project_id, name=f"Renamed {n}")
        if n % 3 == 2:
            trawl.projects.archive(owner, project_id)
        if n == count - 1:
            trawl.projects.delete(owner, project_id)
        else:
            live.append(project_id)
    return live


def rows(url: str, table: str, order: str) -> list[dict[str, Any]]:
    return query(url, f"SELECT * FROM {table} ORDER BY {order}")


def tables_and_indexes(url: str, prefix: str) -> tuple[set[str], set[str]]:
    tables = query(url, "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (prefix + "%",))
    indexes = query(
        url, "SELECT indexname FROM pg_indexes WHERE tablename LIKE %s", (prefix + "%",)
    )
    return {r["tablename"] for r in tables}, {r["indexname"] for r in indexes}


def postgres_views(trawl: Trawl) -> list[Projector]:
    """The Postgres views' projectors (not the search index's)."""
    return [p for p in trawl.projectors if isinstance(p, Projector)]


def catch_up_all(trawl: Trawl) -> None:
    for view in trawl.projectors:
        view.catch_up()


def test_a_rebuilt_view_equals_the_live_view(trawl: Trawl, url: str) -> None:
    history(trawl, new_caller())
    catch_up_all(trawl)
    live_rows = rows(url, "projects", "id")

    read = rebuild(projector(trawl))

    assert read == trawl.store.head()
    assert rows(url, "projects", "id") == live_rows
    assert projector(trawl).position() == trawl.store.head()


def test_the_swap_leaves_no_rebuild_tables_or_positions_behind(trawl: Trawl, url: str) -> None:
    history(trawl, new_caller())
    catch_up_all(trawl)

    rebuild(projector(trawl))

    assert tables_and_indexes(url, "projects") == ({"projects"}, {"projects_pkey", "projects_ix0"})
    positions = query(url, "SELECT view FROM trawl_view_positions ORDER BY view")
    assert [r["view"] for r in positions] == sorted(p.view for p in trawl.projectors)


@pytest.mark.parametrize("view", ["projects", "access"])
def test_rebuild_runs_twice_in_a_row(trawl: Trawl, url: str, view: str) -> None:
    history(trawl, new_caller())
    catch_up_all(trawl)
    tables = [t.name for t in projector(trawl, view).schema.tables]
    before = {t: rows(url, t, "1, 2") for t in tables}
    names_before = tables_and_indexes(url, tables[0])

    rebuild(projector(trawl, view))
    rebuild(projector(trawl, view))

    assert {t: rows(url, t, "1, 2") for t in tables} == before
    assert tables_and_indexes(url, tables[0]) == names_before


def test_rebuild_replaces_rows_the_log_does_not_justify(trawl: Trawl, url: str) -> None:
    live = history(trawl, new_caller())
    catch_up_all(trawl)
    execute(url, "UPDATE projects SET name = 'Corrupted'")
    execute(url, "CREATE TABLE projects__rebuild (leftover int)")  # a crashed earlier rebuild

    rebuild(projector(trawl))

    names = [r["name"] for r in rows(url, "projects", "id")]
    assert len(names) == len(live)
    assert "Corrupted" not in names


def test_rebuild_reports_progress_up_to_the_events_read(trawl: Trawl) -> None:
    history(trawl, new_caller())
    reports: list[tuple[int, int]] = []

    read = rebuild(projector(trawl), lambda done, total: reports.append((done, total)), 4)

    assert len(reports) >= 3
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1] == (read, trawl.store.head())
    assert all(done <= total for done, total in reports)


def test_events_written_during_a_rebuild_reach_the_new_view(trawl: Trawl) -> None:
    owner = new_caller()
    history(trawl, owner)
    live = projector(trawl)
    small = Projector(live.store, live.datastore, live.projection, live.schema, batch_size=3)
    written: list[uuid.UUID] = []

    def write_meanwhile(done: int, total: int) -> None:
        if not written:
            written.append(trawl.projects.create(owner, "Written meanwhile").id)

    rebuild(small, write_meanwhile)
    after = trawl.projects.create(owner, "Written after").id
    live.catch_up()

    view = PostgresProjectsView(live.datastore)
    assert view.get(written[0]) is not None
    assert view.get(after) is not None


def test_queries_keep_working_while_a_view_is_rebuilt(trawl: Trawl) -> None:
    owner = new_caller()
    live_ids = sorted(history(trawl, owner, count=12))
    catch_up_all(trawl)
    view = PostgresProjectsView(projector(trawl).datastore)
    principal = owner.principal_key
    done = threading.Event()
    errors: list[BaseException] = []
    answers: list[list[uuid.UUID]] = []

    def query_in_a_loop() -> None:
        while not done.is_set():
            try:
                answers.append([p.id for p in view.visible_to(principal, 100, None)])
                assert view.get(live_ids[0]) is not None
            except BaseException as error:  # reported below
                errors.append(error)

    reader = threading.Thread(target=query_in_a_loop)
    reader.start()
    try:
        for name in ("projects", "access", "projects"):
            rebuild(projector(trawl, name))
    finally:
        done.set()
        reader.join()

    assert errors == []
    assert answers
    assert all(answer == live_ids for answer in answers)


def test_a_rebuild_beside_a_live_projector_and_writers_loses_nothing(trawl: Trawl) -> None:
    owner = new_caller()
    ids = set(history(trawl, owner))
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        n = 0
        try:
            while not stop.is_set() or n < 3:
                ids.add(trawl.projects.create(owner, f"Meanwhile {n}").id)
                n += 1
        except BaseException as error:  # e.g. no pool connection in time: reported below
            errors.append(error)

    with following(trawl):
        writer = threading.Thread(target=write)
        writer.start()
        try:
            for name in ("projects", "access"):
                rebuild(projector(trawl, name))
        finally:
            stop.set()
            writer.join()
        assert trawl.positions.wait(trawl.views, trawl.store.head(), timeout=10)

    assert errors == []  # every command went through while the views were rebuilt
    view = PostgresProjectsView(projector(trawl).datastore)
    assert {p.id for p in view.visible_to(owner.principal_key, 1000, None)} == ids


def test_every_view_rebuilt_in_one_pass_equals_its_live_view(trawl: Trawl, url: str) -> None:
    history(trawl, new_caller(), count=9)
    catch_up_all(trawl)
    tables = [(t.name, ", ".join(t.key)) for p in postgres_views(trawl) for t in p.schema.tables]
    live = {name: rows(url, name, key) for name, key in tables}

    read = rebuild_all(postgres_views(trawl))

    assert read == trawl.store.head()
    assert {name: rows(url, name, key) for name, key in tables} == live
    assert any(live.values())


def test_a_rebuild_whose_rows_overflow_memory_writes_them_as_it_goes(
    trawl: Trawl, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(trawl, new_caller(), count=12)
    catch_up_all(trawl)
    live_rows = rows(url, "access_grants", "project_id, principal")
    monkeypatch.setattr(rebuild_module, "CACHE_ROWS", 3)  # written (upserts) every batch or so

    rebuild_all(postgres_views(trawl), batch_size=5)

    assert rows(url, "access_grants", "project_id, principal") == live_rows
    assert len(live_rows) == 11  # the last project was deleted


def test_listeners_keep_no_pool_connection(trawl: Trawl, url: str) -> None:
    """Projectors following the log and the position watcher LISTEN on
    connections of their own: every pool connection stays free for work."""
    recorder = trawl.store.recorder
    assert isinstance(recorder, TrawlRecorder)
    pool = recorder.datastore.pool

    def listening() -> int:
        sql = (
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%%' AND datname = current_database()"
        )
        return int(query(url, sql)[0]["n"])

    def take_all() -> bool:
        """Every pool connection at once. A projector's batch borrows two for a
        moment (read-ahead), so a try can meet one half-taken: give all back, retry."""
        taken = []
        try:
            for _ in range(pool.max_size):
                taken.append(pool.getconn(timeout=0.5))
            return True
        except PoolTimeout:
            return False
        finally:
            for connection in taken:
                pool.putconn(connection)

    with following(trawl):
        wait_until(lambda: listening() >= len(trawl.projectors), what="the projectors LISTEN")
        # Held by listeners, a connection would never come back and every try would fail.
        wait_until(take_all, what="every pool connection taken at once")


def test_a_rebuild_settles_the_events_the_view_had_parked(trawl: Trawl, url: str) -> None:
    """Every event is applied again by the rebuild: what the old view had parked
    is gone unless the rebuild parks it again (this one is not in the log)."""
    history(trawl, new_caller())
    execute(
        url,
        "INSERT INTO trawl_parked_events (view, position, topic, error)"
        " VALUES ('projects', 999999, 'Project.Created', 'ValueError()')",
    )

    rebuild(projector(trawl))

    assert scalar(url, "SELECT count(*) FROM trawl_parked_events WHERE view LIKE 'projects%%'") == 0
