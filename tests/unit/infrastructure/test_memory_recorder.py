"""The in-memory recorder keeps the Postgres recorder's all-or-nothing contract."""

import uuid

import pytest
from eventsourcing.persistence import IntegrityError

from application import records
from application.store import TrawlStore
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.memory.recorder import MemoryRecorder
from infrastructure.memory.vault import MemoryKeyVault

pytestmark = pytest.mark.unit

CTX = Context("user:owner", "corr")


@pytest.fixture
def store() -> TrawlStore:
    return TrawlStore({}, MemoryKeyVault(), lambda _: MemoryRecorder())


def recorder(store: TrawlStore) -> MemoryRecorder:
    assert isinstance(store.recorder, MemoryRecorder)
    return store.recorder


def new_project() -> Project:
    return Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Research")


def idempotency(key: str = "k") -> records.IdempotencyRecord:
    return records.IdempotencyRecord("user:1", "POST", "/p", key, "hash", 201, {})


def test_a_claim_conflict_rejects_the_events(store: TrawlStore) -> None:
    store.commit(new_project(), side=[records.Claim("email", "x", uuid.uuid4())])
    loser = new_project()

    with pytest.raises(records.ClaimConflict):
        store.commit(loser, side=[records.Claim("email", "x", loser.id)])

    assert store.head() == 1
    assert store.recorder.select_events(loser.id) == []


def test_claiming_again_for_the_same_owner_is_fine(store: TrawlStore) -> None:
    owner = uuid.uuid4()
    store.commit(new_project(), side=[records.Claim("email", "x", owner)])

    store.commit(new_project(), side=[records.Claim("email", "x", owner)])

    assert recorder(store).claim_owner("email", "x") == owner


def test_a_released_claim_can_be_taken_by_another(store: TrawlStore) -> None:
    store.commit(new_project(), side=[records.Claim("email", "x", uuid.uuid4())])
    store.commit(new_project(), side=[records.ReleaseClaim("email", "x")])
    taker = uuid.uuid4()

    store.commit(new_project(), side=[records.Claim("email", "x", taker)])

    assert recorder(store).claim_owner("email", "x") == taker


def test_an_idempotency_conflict_rejects_the_events(store: TrawlStore) -> None:
    store.commit(new_project(), side=[idempotency()])
    loser = new_project()

    with pytest.raises(records.IdempotencyConflict):
        store.commit(loser, side=[idempotency()])

    assert store.head() == 1
    assert store.recorder.select_events(loser.id) == []


def test_an_event_conflict_rejects_the_side_records(store: TrawlStore) -> None:
    project = new_project()
    store.save(project)
    stale = store.load(Project, project.id)
    project.rename(CTX, "First")
    store.save(project)
    stale.rename(CTX, "Second")

    with pytest.raises(IntegrityError):
        store.commit(stale, side=[records.Claim("name", "second", project.id), idempotency()])

    assert recorder(store).claim_owner("name", "second") is None
    assert recorder(store).idempotency("user:1", "POST", "/p", "k") is None
    assert store.load(Project, project.id).name == "First"


def test_side_records_get_the_position_of_their_events(store: TrawlStore) -> None:
    store.commit(new_project())
    record = idempotency()

    result = store.commit(new_project(), side=[record])

    assert result.position == 2
    stored = recorder(store).idempotency("user:1", "POST", "/p", "k")
    assert stored is not None
    assert stored.body["position"] == 2
