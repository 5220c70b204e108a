"""A projector's rows kept between batches must never outlive another writer."""

import pytest

from infrastructure.postgres.projector import Projector
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.counting import SCHEMA, CountingProjection
from tests.integration.infrastructure.postgres.helpers import new_caller, projector, query

pytestmark = pytest.mark.integration


def twin(live: Projector) -> Projector:
    """The same view's projector in another process."""
    return Projector(live.store, live.datastore, live.projection, live.schema)


def name_and_status(url: str, project_id: object) -> tuple[str, str]:
    row = query(url, "SELECT name, status FROM projects WHERE id = %s", (project_id,))[0]
    return row["name"], row["status"]


def test_a_row_another_process_changed_is_read_again(trawl: Trawl, url: str) -> None:
    owner, mine = new_caller(), projector(trawl)
    project_id = trawl.projects.create(owner, "First").id
    mine.catch_up()  # caches the row as "First"
    trawl.projects.update(owner, project_id, name="Second")
    twin(mine).catch_up()  # another process applies the rename
    trawl.projects.archive(owner, project_id)

    mine.catch_up()

    assert name_and_status(url, project_id) == ("Second", "archived")


def test_a_batch_rolled_back_leaves_nothing_in_the_cache(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "First").id
    counter = Projector(
        trawl.store,
        trawl.store.recorder.datastore,
        CountingProjection(),
        SCHEMA,  # type: ignore[attr-defined]
    )
    counter.setup()
    counter.catch_up()
    trawl.projects.update(owner, project_id, name="Second")
    with counter.datastore.transaction(commit=False) as curs:  # as `rebuild --check` does
        counter.run_batch(curs)

    counter.catch_up()  # applies the rename again, on the row as committed

    row = query(url, "SELECT applied FROM event_counts WHERE originator_id = %s", (project_id,))
    assert row == [{"applied": 2}]


def test_the_cache_is_used_while_nobody_else_writes(trawl: Trawl, url: str) -> None:
    owner, mine = new_caller(), projector(trawl)
    project_id = trawl.projects.create(owner, "First").id
    mine.catch_up()
    trawl.projects.update(owner, project_id, name="Second")
    mine.catch_up()
    mine.catch_up()  # the next batch takes in what the last one wrote

    assert mine.cache.rows[("projects", (project_id,))]["name"] == "Second"
    assert name_and_status(url, project_id) == ("Second", "active")
