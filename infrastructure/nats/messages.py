"""One event as one NATS message: subject, headers, msgspec JSON body.

The body is the event's state at its current schema version (stored events
are upcast by the library's mapper on the way out) with personal fields left
exactly as stored: `{"enc": "<base64 AES-GCM>", "subject": "<subject id>"}`.
The stream never decrypts; forgetting a person (deleting the key) shreds the
published copies too.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from domain.common import EVENT_ID_NAMESPACE
from infrastructure.nats.subjects import spec_for

MSG_ID = "Nats-Msg-Id"
POSITION = "Trawl-Position"
AGGREGATE_ID = "Trawl-Aggregate-Id"
AGGREGATE_VERSION = "Trawl-Aggregate-Version"
EVENT_TYPE = "Trawl-Event-Type"
SCHEMA_VERSION = "Trawl-Schema-Version"
OCCURRED_AT = "Trawl-Occurred-At"
HEADERS = (
    MSG_ID,
    POSITION,
    AGGREGATE_ID,
    AGGREGATE_VERSION,
    EVENT_TYPE,
    SCHEMA_VERSION,
    OCCURRED_AT,
)


class Sealed(msgspec.Struct, frozen=True):
    """A personal field as stored and published: ciphertext and its data subject."""

    enc: str
    subject: str


class Message(msgspec.Struct, frozen=True):
    """One event ready to publish."""

    position: int
    subject: str
    headers: dict[str, str]
    body: bytes


_encoder = msgspec.json.Encoder()


def sealed_event(mapper: Mapper[UUID], stored: StoredEvent) -> DomainEventProtocol[UUID]:
    """The stored event decoded and upcast, personal fields still sealed.

    Calls the library's `Mapper.to_domain_event` itself, not Trawl's
    `PersonalDataMapper` override, which would decrypt them.
    """
    return Mapper.to_domain_event(mapper, stored)


@cache
def _fixed(topic: str, prefix: str) -> tuple[str, str, str]:
    """Subject, event type and schema version of a topic: the same for all its events."""
    spec = spec_for(topic)
    return spec.subject(prefix), spec.topic, str(spec.schema_version)


def to_message(position: int, event: DomainEventProtocol[UUID], prefix: str) -> Message:
    """The message of an event stored at `position`."""
    subject, topic, schema_version = _fixed(type(event).TOPIC, prefix)  # type: ignore[attr-defined]
    state: dict[str, Any] = vars(event)
    aggregate_id = str(state["originator_id"])
    version = str(state["originator_version"])
    occurred: datetime = state["timestamp"]
    headers = {
        MSG_ID: event_id_text(aggregate_id, version),
        POSITION: str(position),
        AGGREGATE_ID: aggregate_id,
        AGGREGATE_VERSION: version,
        EVENT_TYPE: topic,
        SCHEMA_VERSION: schema_version,
        OCCURRED_AT: occurred.isoformat(),
    }
    return Message(position, subject, headers, _encoder.encode(state))


_NAMESPACE = EVENT_ID_NAMESPACE.bytes


def event_id_text(aggregate_id: str, version: str) -> str:
    """`str(domain.common.event_id(...))` without building UUID objects (the relay's hot path)."""
    digest = bytearray(
        hashlib.sha1(
            _NAMESPACE + f"{aggregate_id}:{version}".encode(), usedforsecurity=False
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def encode_stored(mapper: Mapper[UUID], stored: StoredEvent, position: int, prefix: str) -> Message:
    """Decode, upcast and encode one stored event (the relay's whole per-event work)."""
    return to_message(position, sealed_event(mapper, stored), prefix)


def position_of(headers: dict[str, str] | None) -> int | None:
    """The log position a published message carries, if any."""
    value = (headers or {}).get(POSITION)
    return int(value) if value is not None else None
