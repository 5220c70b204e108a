"""Hypothesis: any sequence of Url commands keeps the Url's invariants."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.common import Context, DomainError
from domain.urls.aggregate import Url

pytestmark = pytest.mark.unit

CTX = Context("system:worker", "c")
REACHABLE = ("pending", "fetching", "fetched", "chunked", "failed", "blocked", "removed")
OUTCOMES = ("fetch", "not_modified", "failure", "blocked")
LATER = datetime(2030, 1, 1, tzinfo=UTC)

# Mostly the lease of the running fetch, so the pipeline gets far; sometimes a late one.
lease_choice = st.sampled_from(["current", "current", "current", "stale"])
version_choice = st.sampled_from(["current", "current", "previous"])
schedule = st.tuples(st.just("schedule"), st.sampled_from(["added", "refresh", "retry", "bad"]))
start = st.tuples(st.just("start"), st.sampled_from([1, 1, 2, 3, 0]))
fetch = st.tuples(st.just("fetch"), st.tuples(lease_choice, st.sampled_from("abc")))
text = st.tuples(st.just("text"), st.tuples(version_choice, st.sampled_from(["t1", "t2"])))
chunks = st.tuples(st.just("chunks"), st.tuples(version_choice, st.integers(0, 3)))
commands = st.lists(
    st.one_of(
        *(schedule, start, fetch) * 3,
        *(text, chunks) * 2,
        st.tuples(st.just("not_modified"), st.tuples(lease_choice)),
        st.tuples(st.just("failure"), st.tuples(lease_choice, st.booleans(), st.integers(1, 3))),
        st.tuples(st.just("blocked"), st.tuples(lease_choice)),
        st.tuples(st.sampled_from(["remove", "revive"]), st.none()),
        st.tuples(st.just("cycle"), st.sampled_from("abc")),
        st.tuples(st.just("process"), st.sampled_from(["t1", "t2"])),
    ),
    max_size=30,
)


def expand(sequence: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Shorthands for the happy path, so random runs get far into the pipeline."""
    steps: list[tuple[str, Any]] = []
    for name, arg in sequence:
        if name == "cycle":
            steps += [("schedule", "refresh"), ("start", 1), ("fetch", ("current", arg))]
        elif name == "process":
            steps += [("text", ("current", arg)), ("chunks", ("current", 2))]
        else:
            steps.append((name, arg))
    return steps


def run(url: Url, name: str, arg: Any, lease: uuid.UUID) -> None:
    """One command; `lease` is the lease id an outcome names."""
    version = url.current_version or 1
    if name == "schedule":
        url.schedule_fetch(CTX, arg, LATER)
    elif name == "start":
        url.start_fetch(CTX, arg, uuid.uuid4())
    elif name == "fetch":
        content = arg[1]
        url.record_fetch(
            CTX, lease, 200, "text/html", url.url, content, f"k/{content}", None, content, None, 1
        )
    elif name == "not_modified":
        url.record_not_modified(CTX, lease)
    elif name == "failure":
        url.record_failure(CTX, lease, "timeout", arg[1], url.attempts, LATER, arg[2])
    elif name == "blocked":
        url.record_blocked(CTX, lease)
    elif name in ("text", "chunks"):
        target = version if arg[0] == "current" else version - 1
        if name == "text":
            url.record_text(CTX, target, arg[1], f"t/{arg[1]}", None, 1)
        else:
            chunks = [
                (uuid.uuid5(url.id, str(i)), i, 10 * i, 10 * i + 5, "h") for i in range(arg[1])
            ]
            url.record_chunks(CTX, target, 1, 1000, 150, chunks)
    else:
        getattr(url, name)(CTX)


def state(url: Url) -> dict[str, Any]:
    return {key: value for key, value in vars(url).items() if key != "_pending_events"}


def json_round_trip(events: Sequence[Any]) -> list[Any]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO()):
        transcoder.register(transcoding)
    mapper: Mapper[uuid.UUID] = Mapper(transcoder=transcoder)
    return [mapper.to_domain_event(mapper.to_stored_event(event)) for event in events]


@settings(max_examples=300)
@given(commands)
def test_url_commands_keep_invariants_and_replay_to_the_same_state(
    sequence: list[tuple[str, Any]],
) -> None:
    url = Url.add(CTX, uuid.uuid4(), "https://example.com/")
    for name, arg in expand(sequence):
        before, status_before, lease_before = url.version, url.status, url.lease_id
        named = url.lease_id if name in OUTCOMES and arg[0] == "current" else uuid.uuid4()
        try:
            run(url, name, arg, named or uuid.uuid4())
        except DomainError:
            assert url.version == before  # a refused command records nothing
        assert url.status in REACHABLE
        assert [v.version for v in url.versions] == list(range(1, len(url.versions) + 1))
        assert len({v.content_hash for v in url.versions}) == len(url.versions)
        if url.version != before and name in OUTCOMES:
            # No outcome without the lease of the fetch it answers.
            assert status_before == "fetching" and lease_before is not None
            assert named == lease_before and url.lease_id is None
        if status_before == "removed" and name != "revive":
            assert url.version == before  # nothing but revive after removal
        if url.chunking is not None and url.status == "chunked":
            assert url.text is not None
    events = url.collect_events()
    for source in (events, json_round_trip(events)):
        replayed = None
        for event in source:
            replayed = event.mutate(replayed)
        assert isinstance(replayed, Url)
        assert state(replayed) == state(url)
