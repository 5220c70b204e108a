"""Subject names of the event stream: `<prefix>.<aggregate>.<event>`.

The aggregate is the aggregate class name in snake_case (`user`, `project`,
`url`, `share`, `share_link`, `invitation`), the event its class name in
snake_case (`trawl.url.fetch_scheduled`). The table is built from the
registered event classes, so a new event type gets its subject for free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from eventsourcing.domain import Aggregate

from domain.common import event_classes
from domain.registry import AGGREGATES

DEFAULT_PREFIX = "trawl"
_WORD = re.compile(r"(?<!^)(?=[A-Z])")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


def snake(name: str) -> str:
    """`FetchScheduled` -> `fetch_scheduled`, `ShareLink` -> `share_link`."""
    return _WORD.sub("_", name).lower()


@dataclass(frozen=True)
class EventSpec:
    """What the stream says about one event class."""

    cls: type[Aggregate.Event]
    topic: str  # the stored topic, e.g. `trawl:url.fetched`
    aggregate: str  # `url`
    event: str  # `fetched`
    personal: tuple[str, ...]

    @property
    def schema_version(self) -> int:
        """The class version: upcast events are published at this version."""
        return int(getattr(self.cls, "class_version", 1))

    @property
    def name(self) -> str:
        """`<aggregate>.<event>`: the subject without its prefix."""
        return f"{self.aggregate}.{self.event}"

    def subject(self, prefix: str) -> str:
        return f"{prefix}.{self.name}"


@cache
def catalog() -> dict[str, EventSpec]:
    """Every registered event class, keyed by its stored topic."""
    specs: dict[str, EventSpec] = {}
    for aggregate in AGGREGATES:
        for cls in event_classes(aggregate):
            topic = str(getattr(cls, "TOPIC", ""))
            specs[topic] = EventSpec(
                cls=cls,
                topic=topic,
                aggregate=snake(aggregate.__name__),
                event=snake(cls.__name__),
                personal=tuple(getattr(cls, "personal_fields", ())),
            )
    return specs


def spec_for(topic: str) -> EventSpec:
    """The spec of a stored topic (KeyError for an unknown topic)."""
    return catalog()[topic]


def check_prefix(prefix: str) -> str:
    """The prefix, if it is one or more subject tokens without wildcards."""
    if not _TOKEN.match(prefix):
        raise ValueError(f"subject prefix must be dot-separated tokens, got {prefix!r}")
    return prefix
