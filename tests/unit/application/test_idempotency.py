import uuid

import pytest

from application import records
from application.auth.principal import Caller
from application.store import IdempotencyRequest, NotFound
from domain.common import Context
from domain.projects.aggregate import Project
from interfaces.bootstrap import Trawl
from tests.unit.application.helpers import notifications

pytestmark = pytest.mark.unit


def request(caller: Caller, key: str = "key-1", body_hash: str = "hash-1") -> IdempotencyRequest:
    return IdempotencyRequest(
        principal=caller.principal_key,
        method="POST",
        path="/api/v1/projects",
        key=key,
        request_hash=body_hash,
        status=201,
    )


def test_the_first_answer_is_stored_with_the_request(trawl: Trawl, owner: Caller) -> None:
    result = trawl.projects.create(owner, "Research", idempotency=request(owner))

    stored = trawl.store.side.idempotency(owner.principal_key, "POST", "/api/v1/projects", "key-1")

    assert stored is not None
    assert (stored.request_hash, stored.status) == ("hash-1", 201)
    assert stored.body == {"id": str(result.id), "version": 1, "position": result.position}
    assert stored.created_at is not None


def test_the_stored_position_is_the_position_of_the_commands_event(
    trawl: Trawl, owner: Caller
) -> None:
    result = trawl.projects.create(owner, "Research", idempotency=request(owner))

    last = notifications(trawl)[-1]
    stored = trawl.store.side.idempotency(owner.principal_key, "POST", "/api/v1/projects", "key-1")
    assert last.originator_id == result.id
    assert stored is not None
    assert stored.body["position"] == last.id == result.position


def test_a_command_that_changes_nothing_stores_the_log_head(trawl: Trawl, owner: Caller) -> None:
    project = trawl.projects.create(owner, "Research")
    trawl.projects.create(owner, "Other")
    head = trawl.store.head()
    idem = IdempotencyRequest(owner.principal_key, "PATCH", f"/p/{project.id}", "k", "h", 200)

    result = trawl.projects.update(owner, project.id, name="Research", idempotency=idem)

    stored = trawl.store.side.idempotency(owner.principal_key, "PATCH", f"/p/{project.id}", "k")
    assert stored is not None
    assert result.position == head == stored.body["position"]
    assert trawl.store.head() == head


def test_a_second_command_with_the_same_key_is_rejected_with_its_events(
    trawl: Trawl, owner: Caller
) -> None:
    trawl.projects.create(owner, "Research", idempotency=request(owner))
    before = notifications(trawl)

    with pytest.raises(records.IdempotencyConflict):
        trawl.projects.create(owner, "Research again", idempotency=request(owner, body_hash="h2"))

    assert notifications(trawl) == before
    assert [p.name for p in trawl.project_queries.list(owner).items] == ["Research"]
    stored = trawl.store.side.idempotency(owner.principal_key, "POST", "/api/v1/projects", "key-1")
    assert stored is not None
    assert stored.request_hash == "hash-1"


def test_keys_are_scoped_to_the_principal(trawl: Trawl, owner: Caller, stranger: Caller) -> None:
    trawl.projects.create(owner, "Mine", idempotency=request(owner))

    trawl.projects.create(stranger, "Theirs", idempotency=request(stranger))

    assert trawl.store.side.idempotency(stranger.principal_key, "POST", "/api/v1/projects", "key-1")


def test_an_api_key_and_a_token_of_one_user_share_the_scope(trawl: Trawl, owner: Caller) -> None:
    via_key = Caller.api_key(owner.user_id, owner.role, uuid.uuid4())
    trawl.projects.create(owner, "Mine", idempotency=request(owner))

    with pytest.raises(records.IdempotencyConflict):
        trawl.projects.create(via_key, "Again", idempotency=request(via_key))


def test_secrets_are_stored_as_null_but_answered_once(trawl: Trawl, owner: Caller) -> None:
    idem = IdempotencyRequest(owner.principal_key, "POST", "/api/v1/auth/api-keys", "k", "h", 201)

    result = trawl.auth.create_api_key(
        Context(owner.actor, "c"), owner.user_id, "laptop", idempotency=idem
    )

    stored = trawl.store.side.idempotency(owner.principal_key, "POST", "/api/v1/auth/api-keys", "k")
    assert result.extra["key"].startswith("trawl_")
    assert stored is not None
    assert stored.body["key"] is None
    assert stored.body["key_id"] == result.extra["key_id"]
    assert stored.body["position"] == result.position


def test_a_rejected_command_leaves_no_aggregate_behind(trawl: Trawl, owner: Caller) -> None:
    trawl.projects.create(owner, "Research", idempotency=request(owner))
    head = trawl.store.head()

    with pytest.raises(records.IdempotencyConflict):
        trawl.projects.create(owner, "Ghost", idempotency=request(owner))

    ghost_ids = {n.originator_id for n in notifications(trawl)} - {
        p.id for p in trawl.project_queries.list(owner).items
    }
    assert trawl.store.head() == head
    for originator in ghost_ids:  # only the owner's own user aggregate remains
        with pytest.raises(NotFound):
            trawl.store.load(Project, originator)
