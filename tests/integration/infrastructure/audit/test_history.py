"""History on Postgres: past states equal folding the events, old shapes upcast,
forgotten people erased while the chain still verifies."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.audit.checks import rebuild_check
from application.audit.events import state_of
from application.audit.verification import ChainVerifier
from application.auth.principal import Caller
from application.store import TrawlStore
from domain.common import Context, DomainError
from domain.projects.aggregate import Project
from domain.users.aggregate import User
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import PASSWORD, new_caller, scalar

pytestmark = pytest.mark.integration

AUDITOR = Caller.user(uuid.uuid4(), "auditor")
CLI = Context.system("test")
COMMANDS = st.lists(
    st.sampled_from(["rename", "describe", "archive", "restore"]), min_size=1, max_size=25
)


def fold(events: list[Any]) -> Any:
    """The aggregate after these events, applied one by one from nothing."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def run(trawl: Trawl, owner: Caller, project_id: uuid.UUID, commands: list[str]) -> None:
    for n, command in enumerate(commands):
        try:
            if command == "rename":
                trawl.projects.update(owner, project_id, name=f"Name {n}")
            elif command == "describe":
                trawl.projects.update(owner, project_id, description=f"About {n}")
            elif command == "archive":
                trawl.projects.archive(owner, project_id)
            else:
                trawl.projects.restore(owner, project_id)
        except DomainError:  # refused by the aggregate's rules: records nothing
            pass


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(commands=COMMANDS)
def test_the_state_at_each_version_equals_folding_its_first_events(
    trawl: Trawl, url: str, monkeypatch: pytest.MonkeyPatch, commands: list[str]
) -> None:
    monkeypatch.setattr(TrawlStore, "snapshotting_intervals", {Project: 3})  # snapshots in play
    owner = new_caller()
    project_id = trawl.projects.create(owner, "Start").id
    run(trawl, owner, project_id, commands)
    events = list(trawl.store.events.get(project_id))
    snapshots = "SELECT count(*) FROM trawl_snapshots WHERE originator_id = %s"
    assert scalar(url, snapshots, (project_id,)) == len(events) // 3
    for n in range(1, len(events) + 1):
        folded = fold(events[:n])
        past = trawl.audit.state(AUDITOR, project_id, version=n)
        assert past.state == state_of(folded)
        at = trawl.audit.state(AUDITOR, project_id, at=events[n - 1].timestamp)
        assert at.version == n


def test_an_event_stored_in_its_old_shape_reads_as_the_current_version(
    trawl: Trawl, url: str
) -> None:
    user_id = trawl.users.register(CLI, "old@example.org", PASSWORD, "Old").id
    user = trawl.store.load(User, user_id)
    user.change_role(CLI, "auditor")
    [current] = user.collect_events()
    stored = trawl.store.mapper.to_stored_event(current)
    state = json.loads(stored.state)
    assert (state.pop("class_version"), state.pop("previous_role")) == (2, "user")
    trawl.store.recorder.insert_events([replace(stored, state=json.dumps(state).encode())])

    raw = bytes(scalar(url, "SELECT state FROM trawl_events WHERE originator_version = 2"))
    assert b"class_version" not in raw and b"previous_role" not in raw
    assert trawl.store.load(User, user_id).role == "auditor"
    [_, changed] = trawl.audit.history(AUDITOR, user_id, 0, 10)
    assert (changed.schema_version, changed.payload) == (
        2,
        {"role": "auditor", "previous_role": None},
    )
    assert ChainVerifier(trawl.store.audit_log).verify().ok


def test_a_forgotten_person_is_erased_and_the_chain_still_verifies(trawl: Trawl, url: str) -> None:
    user_id = trawl.users.register(CLI, "gone@example.org", PASSWORD, "Gone Person").id
    project = trawl.projects.create(Caller.user(user_id, "user"), "Theirs").id
    for projector in trawl.projectors:
        projector.catch_up()
    before = bytes(
        scalar(url, "SELECT state FROM trawl_events WHERE originator_id = %s", (user_id,))
    )

    trawl.users.forget(CLI, "gone@example.org")

    created, forgotten = trawl.audit.history(AUDITOR, user_id, 0, 10)
    assert created.erased == ("email", "display_name")
    assert created.payload["email"] is None and created.payload["display_name"] is None
    assert forgotten.topic == "trawl:user.forgotten"
    state: dict[str, Any] = trawl.audit.state(AUDITOR, user_id).state
    assert (state["email"], state["display_name"], state["forgotten"]) == (None, None, True)
    assert (
        scalar(url, "SELECT count(*) FROM trawl_subject_keys WHERE subject_id = %s", (user_id,))
        == 0
    )
    assert scalar(url, "SELECT count(*) FROM trawl_principals WHERE user_id = %s", (user_id,)) == 0
    # History is not rewritten: the sealed bytes are still there, the chain holds.
    assert before == bytes(scalar(url, "SELECT state FROM trawl_events WHERE originator_id = %s"
                                  " AND originator_version = 1", (user_id,)))  # fmt: skip
    assert ChainVerifier(trawl.store.audit_log).verify().ok
    assert all(f.ok for f in rebuild_check(trawl.rebuild_checks))
    assert trawl.audit.state(AUDITOR, project).state["owner_id"] == str(user_id)
