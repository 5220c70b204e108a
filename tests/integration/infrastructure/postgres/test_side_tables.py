"""Claims, idempotency answers and credentials commit or roll back with their events."""

import re
import uuid

import pytest
from eventsourcing.persistence import IntegrityError

from application import records
from application.store import IdempotencyRequest
from domain.common import Context
from domain.projects.aggregate import Project
from domain.users import errors as users_errors
from infrastructure.postgres import side_tables
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    PASSWORD,
    execute,
    new_caller,
    query,
    run_in_threads,
    scalar,
)

pytestmark = pytest.mark.integration

CTX = Context.system("test")


def count(url: str, table: str) -> int:
    return int(scalar(url, f"SELECT count(*) FROM {table}"))


def idempotency(key: str = "key-1", body_hash: str = "h1") -> IdempotencyRequest:
    return IdempotencyRequest("user:x", "POST", "/api/v1/projects", key, body_hash, 201)


def test_registration_writes_event_claim_and_principal_together(trawl: Trawl, url: str) -> None:
    result = trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada")

    [claim] = query(url, "SELECT scope, value, owner_id FROM trawl_claims")
    assert (claim["scope"], claim["owner_id"]) == ("email", result.id)
    assert re.fullmatch(r"[0-9a-f]{64}", claim["value"])  # a keyed hash, not the address
    [principal] = query(url, "SELECT user_id, role, password_version FROM trawl_principals")
    assert principal == {"user_id": result.id, "role": "user", "password_version": 1}
    [event] = query(url, "SELECT notification_id, originator_id FROM trawl_events")
    assert (event["notification_id"], event["originator_id"]) == (result.position, result.id)


def test_a_taken_email_rolls_back_event_claim_and_principal(trawl: Trawl, url: str) -> None:
    trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada")

    with pytest.raises(users_errors.EmailTaken):
        trawl.users.register(CTX, "ADA@example.org", PASSWORD, "Impostor")

    assert (count(url, "trawl_events"), count(url, "trawl_claims")) == (1, 1)
    assert count(url, "trawl_principals") == 1


def test_concurrent_registrations_of_one_email_let_exactly_one_win(trawl: Trawl, url: str) -> None:
    results = run_in_threads(
        6,
        lambda i: trawl.users.register(
            CTX, f"{'ADA' if i % 2 else 'ada'}@example.org", PASSWORD, "A"
        ),
    )

    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, users_errors.EmailTaken) for r in results if isinstance(r, Exception))
    assert (count(url, "trawl_events"), count(url, "trawl_principals")) == (1, 1)


def test_a_claim_conflict_rolls_back_the_events(trawl: Trawl, url: str) -> None:
    first = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "First")
    trawl.store.commit(first, side=[records.Claim("slug", "research", first.id)])
    second = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Second")

    with pytest.raises(records.ClaimConflict):
        trawl.store.commit(second, side=[records.Claim("slug", "research", second.id)])

    assert [r["originator_id"] for r in query(url, "SELECT originator_id FROM trawl_events")] == [
        first.id
    ]
    assert trawl.store.side.claim_owner("slug", "research") == first.id


def test_an_event_conflict_rolls_back_claim_and_idempotency(trawl: Trawl, url: str) -> None:
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Research").id
    stale = trawl.store.load(Project, project_id)
    trawl.projects.update(owner, project_id, name="Winner")
    stale.rename(CTX, "Loser")
    side = [
        records.Claim("slug", "loser", project_id),
        records.IdempotencyRecord("user:x", "PATCH", "/p", "k", "h", 200, {}),
    ]

    with pytest.raises(IntegrityError):
        trawl.store.commit(stale, side=side)

    assert count(url, "trawl_claims") == 0
    assert count(url, "trawl_idempotency") == 0
    assert trawl.store.load(Project, project_id).name == "Winner"


def test_the_idempotency_record_is_stored_with_its_position(trawl: Trawl, url: str) -> None:
    result = trawl.projects.create(new_caller(), "Research", idempotency=idempotency())

    [row] = query(
        url,
        "SELECT principal, method, path, key, request_hash, status, body FROM trawl_idempotency",
    )
    assert row == {
        "principal": "user:x",
        "method": "POST",
        "path": "/api/v1/projects",
        "key": "key-1",
        "request_hash": "h1",
        "status": 201,
        "body": {"id": str(result.id), "version": 1, "position": result.position},
    }
    stored = trawl.store.side.idempotency("user:x", "POST", "/api/v1/projects", "key-1")
    assert stored is not None
    assert stored.body["position"] == result.position


def test_a_live_idempotency_key_rejects_a_second_command_and_its_events(
    trawl: Trawl, url: str
) -> None:
    trawl.projects.create(new_caller(), "Research", idempotency=idempotency())

    with pytest.raises(records.IdempotencyConflict):
        trawl.projects.create(new_caller(), "Again", idempotency=idempotency(body_hash="h2"))

    assert count(url, "trawl_events") == 1
    assert scalar(url, "SELECT request_hash FROM trawl_idempotency") == "h1"


def test_an_expired_idempotency_record_is_neither_answered_nor_blocking(
    trawl: Trawl, url: str
) -> None:
    trawl.projects.create(new_caller(), "Research", idempotency=idempotency())
    execute(url, "UPDATE trawl_idempotency SET created_at = now() - interval '25 hours'")

    assert trawl.store.side.idempotency("user:x", "POST", "/api/v1/projects", "key-1") is None
    again = trawl.projects.create(new_caller(), "Again", idempotency=idempotency(body_hash="h2"))

    stored = trawl.store.side.idempotency("user:x", "POST", "/api/v1/projects", "key-1")
    assert stored is not None
    assert (stored.request_hash, stored.body["id"]) == ("h2", str(again.id))


def test_purge_deletes_only_expired_idempotency_records(trawl: Trawl, url: str) -> None:
    trawl.projects.create(new_caller(), "Old", idempotency=idempotency("old"))
    trawl.projects.create(new_caller(), "New", idempotency=idempotency("new"))
    execute(
        url,
        "UPDATE trawl_idempotency SET created_at = now() - interval '25 hours' WHERE key = 'old'",
    )

    deleted = side_tables.purge_expired(trawl.store.recorder.datastore)  # type: ignore[attr-defined]

    assert deleted == 1
    assert [r["key"] for r in query(url, "SELECT key FROM trawl_idempotency")] == ["new"]


def test_password_change_and_api_keys_live_beside_the_events(trawl: Trawl, url: str) -> None:
    user_id = trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada").id
    ctx = Context(f"user:{user_id}", "corr")
    trawl.auth.change_password(ctx, user_id, PASSWORD, "a brand new passphrase")
    created = trawl.auth.create_api_key(ctx, user_id, "laptop")

    assert scalar(url, "SELECT password_version FROM trawl_principals") == 2
    [key] = query(url, "SELECT key_id, user_id, name, key_hash FROM trawl_api_keys")
    assert (str(key["key_id"]), key["user_id"], key["name"]) == (
        created.extra["key_id"],
        user_id,
        "laptop",
    )
    assert created.extra["key"] not in key["key_hash"]
    caller = trawl.auth.caller_for_api_key(created.extra["key"])
    assert caller is not None
    assert caller.user_id == user_id

    trawl.auth.delete_api_key(ctx, user_id, uuid.UUID(created.extra["key_id"]))

    assert count(url, "trawl_api_keys") == 0
    assert trawl.auth.caller_for_api_key(created.extra["key"]) is None
