import asyncio
import time
from pathlib import Path

import pytest

from application.ports import PositionWaiter
from domain.common import Context
from infrastructure.postgres import views
from infrastructure.postgres.positions import PositionWatcher
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    PASSWORD,
    Writers,
    following,
    new_caller,
    projector,
    query,
    start,
    wait_until,
)

pytestmark = pytest.mark.integration


def test_a_waiter_wakes_when_the_projector_applies_the_position(url: str, tmp_path: Path) -> None:
    app = start(url, str(tmp_path))  # closed here: its projector threads must stop with the test
    try:
        owner = new_caller()
        app.start_projectors()

        result = app.projects.create(owner, "Research")

        assert app.positions.wait(app.views, result.position, timeout=10)
        assert app.project_queries.get(owner, result.id).name == "Research"
        assert app.positions.positions()["projects"] >= result.position
    finally:
        app.close()


def test_waiting_for_a_future_position_times_out_with_false(trawl: Trawl) -> None:
    with following(trawl):
        head = trawl.projects.create(new_caller(), "Research").position
        assert trawl.positions.wait(["projects"], head, timeout=10)

        started = time.monotonic()
        reached = trawl.positions.wait(["projects"], head + 100, timeout=0.2)

        assert reached is False
        assert time.monotonic() - started >= 0.19


def test_a_position_of_no_interest_to_a_view_is_reached_once_read(trawl: Trawl) -> None:
    with following(trawl):
        user = trawl.users.register(Context.system("t"), "ada@example.org", PASSWORD, "Ada")

        assert trawl.positions.wait(["projects"], user.position, timeout=10)


def listeners(url: str) -> set[int]:
    """Sessions listening on the views' channel (each process's position watcher)."""
    rows = query(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE %s",
        (f"LISTEN%{views.CHANNEL}%",),
    )
    return {r["pid"] for r in rows}


def test_a_blocked_waiter_is_woken_by_the_notify_of_a_projector_elsewhere(
    trawl: Trawl, url: str
) -> None:
    result = trawl.projects.create(new_caller(), "Research")
    listening = listeners(url)
    watcher = PositionWatcher(trawl.store.recorder.datastore)  # type: ignore[attr-defined]
    watcher.start()
    try:
        wait_until(lambda: bool(listeners(url) - listening), what="the watcher to LISTEN")
        assert watcher.positions().get("projects", 0) < result.position
        waiter = Writers(1, lambda _: watcher.wait(["projects"], result.position, timeout=10))

        projector(trawl).catch_up()  # as another process would: commit + NOTIFY

        assert waiter.join() == [True]
        assert watcher.positions()["projects"] == result.position
    finally:
        watcher.stop()


def test_the_async_wait_wakes_too(trawl: Trawl) -> None:
    with following(trawl):
        result = trawl.projects.create(new_caller(), "Research")
        positions: PositionWaiter = trawl.positions

        async def both() -> tuple[bool, bool]:
            reached = await positions.wait_async(["projects"], result.position, 10)
            too_far = await positions.wait_async(["projects"], result.position + 50, 0.1)
            return reached, too_far

        assert asyncio.run(both()) == (True, False)


def test_positions_are_known_at_start_from_the_table(trawl: Trawl, url: str) -> None:
    result = trawl.projects.create(new_caller(), "Research")
    for view in trawl.projectors:
        view.catch_up()

    watcher = PositionWatcher(trawl.store.recorder.datastore)  # type: ignore[attr-defined]
    watcher.start()
    try:
        assert watcher.reached(list(trawl.views), result.position)
        assert watcher.wait(list(trawl.views), result.position, timeout=0)
    finally:
        watcher.stop()
