"""What every aggregate shares: the command context, the event base, errors.

Every event carries who did it (`actor`), the correlation id of the request
that caused it, the id of the event that caused it (`causation_id`, for
reactions) and its time (`timestamp`, from the library). Event classes and
aggregates declare a stable `TOPIC`: stored events name their class by it, so
moving or renaming a module never orphans stored events.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

ACTOR_PATTERN = re.compile(r"^(user|key|link|system):[A-Za-z0-9_.-]+$")

# Event ids are derived, so a relay retry or a replay names the same event.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c3a52-8f0e-4f7c-9a55-2b8f7d0e3c11")


def event_id(aggregate_id: uuid.UUID, version: int) -> uuid.UUID:
    """The id of an aggregate's event at a version: uuid5(ns, "<id>:<version>")."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}")


@dataclass(frozen=True)
class Context:
    """Who asks, and on behalf of which request (passed to every command)."""

    actor: str
    correlation_id: str
    causation_id: str | None = None

    def __post_init__(self) -> None:
        if not ACTOR_PATTERN.match(self.actor):
            raise ValueError(f"actor must be a tagged string, got {self.actor!r}")

    def fields(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }

    @classmethod
    def system(cls, component: str, correlation_id: str | None = None) -> Context:
        return cls(f"system:{component}", correlation_id or uuid.uuid4().hex)


class DomainError(Exception):
    """A command broke an invariant; `slug` names the problem type."""

    slug: ClassVar[str] = "invalid-command"


class TrawlAggregate(Aggregate):
    """Base for Trawl's aggregates: events carry actor and correlation."""

    class Event(Aggregate.Event):
        actor: str
        correlation_id: str
        causation_id: str | None

    def _emit(self, event_class: type[Any], ctx: Context, **fields: Any) -> None:
        self.trigger_event(event_class, **ctx.fields(), **fields)


def event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The concrete event classes nested in an aggregate class."""
    found = []
    for value in vars(aggregate).values():
        if (
            isinstance(value, type)
            and issubclass(value, Aggregate.Event)
            and value.__name__ != "Event"
        ):
            found.append(value)
    return found
