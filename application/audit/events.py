"""How the audit routes show an event or a state: plain values, personal
fields decrypted while their subject's key exists, otherwise erased.

Topics read `trawl:<aggregate>.<event>`; the catalogue of known topics comes
from the registered aggregates, so filters refuse unknown names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification

from domain import common, registry

# Every event has these; the payload is the rest.
ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "actor",
        "correlation_id",
        "causation_id",
        "originator_topic",
    }
)


def split_topic(topic: str) -> tuple[str, str]:
    """`trawl:share_link.created` -> (`share_link`, `created`)."""
    aggregate, _, event = topic.partition(":")[2].rpartition(".")
    return aggregate, event


def _catalogue() -> dict[str, type[Aggregate.Event]]:
    return {
        cls.TOPIC: cls  # type: ignore[attr-defined]
        for aggregate in registry.AGGREGATES
        for cls in common.event_classes(aggregate)
        if getattr(cls, "TOPIC", None)
    }


TOPICS = _catalogue()
AGGREGATE_TYPES = frozenset(split_topic(t)[0] for t in TOPICS)


@dataclass(frozen=True)
class AuditEvent:
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
    erased: tuple[str, ...]


def present(notification: Notification, event: Any) -> AuditEvent:
    """One decoded event (upcast to its current version) as the audit shows it."""
    state = vars(event)
    personal = getattr(type(event), "personal_fields", ())
    aggregate, name = split_topic(notification.topic)
    return AuditEvent(
        position=notification.id,
        aggregate_id=event.originator_id,
        aggregate_type=aggregate,
        type=name,
        topic=notification.topic,
        version=event.originator_version,
        schema_version=getattr(type(event), "class_version", 1),
        actor=state.get("actor"),
        correlation_id=state.get("correlation_id"),
        causation_id=state.get("causation_id"),
        time=event.timestamp,
        payload={k: plain(v) for k, v in state.items() if k not in ENVELOPE},
        erased=tuple(f for f in personal if state.get(f) is None),
    )


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    """An aggregate's attributes as plain values (private ones left out)."""
    return {
        k: plain(v)
        for k, v in vars(aggregate).items()
        if not k.startswith("_") and k not in ("pending_events",)
    }


def plain(value: Any) -> Any:
    """JSON-ready: ids and times as strings, containers as lists and dicts."""
    if isinstance(value, UUID | datetime | Enum):
        return (
            value.isoformat()
            if isinstance(value, datetime)
            else str(getattr(value, "value", value))
        )
    if hasattr(value, "__dataclass_fields__"):
        value = vars(value)
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value
