"""Bodies of the audit routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.audit.chain import VerifyResult
from application.audit.events import AuditEvent
from application.audit.queries import PastState
from interfaces.http.schemas import Schema


class Event(Schema):
    """One stored event, upcast to its current schema version.

    Personal fields are decrypted while their subject's key exists; the
    names in `erased` are fields whose key was deleted (shown as null).
    """

    position: int
    aggregate_id: UUID
    aggregate_type: str
    type: str
    topic: str
    version: int
    schema_version: int
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    time: datetime
    payload: dict[str, Any]
    erased: list[str]

    @classmethod
    def of(cls, e: AuditEvent) -> Event:
        return cls(
            position=e.position,
            aggregate_id=e.aggregate_id,
            aggregate_type=e.aggregate_type,
            type=e.type,
            topic=e.topic,
            version=e.version,
            schema_version=e.schema_version,
            actor=e.actor,
            correlation_id=e.correlation_id,
            causation_id=e.causation_id,
            time=e.time,
            payload=e.payload,
            erased=list(e.erased),
        )


class EventPage(Schema):
    """`next_cursor` is the position to pass as `after` next (null at the head)."""

    items: list[Event]
    next_cursor: str | None


class State(Schema):
    aggregate_id: UUID
    aggregate_type: str
    version: int
    created_at: datetime
    modified_at: datetime
    state: dict[str, Any]

    @classmethod
    def of(cls, s: PastState) -> State:
        return cls(
            aggregate_id=s.aggregate_id,
            aggregate_type=s.aggregate_type,
            version=s.version,
            created_at=s.created_at,
            modified_at=s.modified_at,
            state=s.state,
        )


class Verification(Schema):
    """The walk's outcome. `next_cursor`: pass as `after` to go on (null: done)."""

    ok: bool
    verified: int
    last_position: int
    last_link: str
    first_bad_position: int | None
    reason: str | None
    next_cursor: str | None

    @classmethod
    def of(cls, r: VerifyResult, more: bool) -> Verification:
        return cls(
            ok=r.ok,
            verified=r.verified,
            last_position=r.last_position,
            last_link=r.last_link.hex(),
            first_bad_position=r.first_bad_position,
            reason=r.reason,
            next_cursor=str(r.last_position) if r.ok and more else None,
        )
