"""Hypothesis: any sequence of share commands keeps the Share's invariants."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.common import Context, DomainError
from domain.shares.aggregate import Share

pytestmark = pytest.mark.unit

CTX = Context("user:owner", "c")
commands = st.lists(
    st.one_of(
        st.tuples(st.just("change_role"), st.sampled_from(["viewer", "editor", "owner", ""])),
        st.tuples(st.just("revoke"), st.none()),
        st.tuples(st.just("leave"), st.none()),
    ),
    max_size=12,
)


@given(st.sampled_from(["viewer", "editor"]), commands)
def test_share_commands_keep_invariants_and_replay_to_the_same_state(
    initial_role: str, sequence: list[tuple[str, str | None]]
) -> None:
    share = Share.grant(CTX, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), initial_role)
    ended_at: int | None = None
    for name, argument in sequence:
        before = share.version
        try:
            if name == "change_role":
                share.change_role(CTX, argument or "")
            else:
                getattr(share, name)(CTX)
        except DomainError:
            assert share.version == before  # a refused command records nothing
        assert share.role in ("viewer", "editor")
        if ended_at is not None:
            assert share.version == ended_at  # nothing happens after the end
        if not share.is_active and ended_at is None:
            ended_at = share.version
    events = share.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert (replayed.role, replayed.status, replayed.version) == (
        share.role,
        share.status,
        share.version,
    )


def test_the_owner_cannot_be_granted() -> None:
    owner = uuid.uuid4()
    with pytest.raises(DomainError):
        Share.grant(CTX, uuid.uuid4(), uuid.uuid4(), owner, owner, "viewer")
