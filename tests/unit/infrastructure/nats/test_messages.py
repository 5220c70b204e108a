"""One event as one message: headers, msgspec JSON body, personal data sealed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from domain.common import event_id
from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.nats import messages
from infrastructure.nats.contract import decode_body
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap_memory
from tests.unit.application.helpers import ListMailer, register

pytestmark = pytest.mark.unit


@pytest.fixture
def trawl(tmp_path: Path) -> Trawl:
    return bootstrap_memory(
        Settings(data_dir=str(tmp_path)),
        mailer=ListMailer(),
        hasher=Argon2PasswordHasher(time_cost=1, memory_cost=1024),
    )


def published(trawl: Trawl, prefix: str = "trawl") -> list[messages.Message]:
    notifications = trawl.store.recorder.select_notifications(start=1, limit=1000)
    return [messages.encode_stored(trawl.store.mapper, n, n.id, prefix) for n in notifications]


def test_headers_name_the_event_its_position_and_its_aggregate(trawl: Trawl) -> None:
    user_id = register(trawl, "ann@example.org", "Ann")
    [created] = published(trawl, "t9")
    assert created.subject == "t9.user.created"
    assert created.headers == {
        "Nats-Msg-Id": str(event_id(user_id, 1)),
        "Trawl-Position": "1",
        "Trawl-Aggregate-Id": str(user_id),
        "Trawl-Aggregate-Version": "1",
        "Trawl-Event-Type": "trawl:user.created",
        "Trawl-Schema-Version": "1",
        "Trawl-Occurred-At": created.headers["Trawl-Occurred-At"],
    }
    occurred = datetime.fromisoformat(created.headers["Trawl-Occurred-At"])
    assert occurred.utcoffset() is not None


def test_personal_data_stays_sealed_in_the_body(trawl: Trawl) -> None:
    register(trawl, "ann.secret@example.org", "Ann Secretname")
    [created] = published(trawl)
    assert b"ann.secret" not in created.body
    assert b"Secretname" not in created.body
    body = json.loads(created.body)
    for field in ("email", "display_name"):
        assert set(body[field]) == {"enc", "subject"}
        assert body[field]["subject"] == body["originator_id"]


def test_the_body_is_msgspec_json_matching_the_contract(trawl: Trawl) -> None:
    register(trawl, "bob@example.org", "Bob")
    for message in published(trawl):
        decoded: Any = decode_body(message.headers["Trawl-Event-Type"], message.body)
        assert str(decoded.originator_id) == message.headers["Trawl-Aggregate-Id"]
        assert decoded.originator_version == int(message.headers["Trawl-Aggregate-Version"])


def test_the_event_id_is_stable_across_encodings(trawl: Trawl) -> None:
    register(trawl, "cy@example.org", "Cy")
    assert [m.headers for m in published(trawl)] == [m.headers for m in published(trawl)]


class Thing(Aggregate):
    class Happened(Aggregate.Event):
        class_version: ClassVar[int] = 2
        colour: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["colour"] = "unknown"


def test_old_events_are_upcast_to_the_current_schema(trawl: Trawl) -> None:
    # A version-1 Happened stored before `colour` existed.
    state = {"timestamp": datetime.now().astimezone(), "originator_topic": "x"}
    stored = StoredEvent(
        originator_id=uuid4(),
        originator_version=1,
        topic=f"{__name__}:Thing.Happened",
        state=trawl.store.mapper.transcoder.encode(state),
    )
    event = messages.sealed_event(trawl.store.mapper, stored)
    assert vars(event)["colour"] == "unknown"
    assert isinstance(vars(event)["originator_id"], UUID)


def test_the_fast_event_id_is_the_domains_event_id() -> None:
    for version in (1, 2, 17, 10_000):
        aggregate_id = uuid4()
        assert messages.event_id_text(str(aggregate_id), str(version)) == str(
            event_id(aggregate_id, version)
        )
