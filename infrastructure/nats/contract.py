"""The payload of each event type as a msgspec Struct: the stream's contract.

Built from the event classes themselves (their dataclass fields and type
hints), so the contract cannot drift from what the relay publishes: a body
decodes into its Struct exactly (unknown fields are refused), and the
AsyncAPI document's schemas are these Structs' JSON schemas.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime
from functools import cache
from typing import Annotated, Any
from uuid import UUID

import msgspec

from infrastructure.nats.messages import Sealed
from infrastructure.nats.subjects import EventSpec, catalog

Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]

# What each common field means (docs/events.md says the same).
COMMON = {
    "originator_id": "The aggregate's id.",
    "originator_version": "The aggregate's version after this event (1, 2, ...).",
    "timestamp": "When it happened (UTC).",
    "actor": "Who did it: `user:<id>`, `key:<id>`, `link:<id>` or `system:<component>`.",
    "correlation_id": "The request that caused it.",
    "causation_id": "The event that caused it (reactions), else null.",
}


def struct_name(spec: EventSpec) -> str:
    """`share_link` + `Created` -> `ShareLinkCreated`."""
    return "".join(part.title() for part in spec.aggregate.split("_")) + spec.cls.__name__


def _field_type(spec: EventSpec, name: str, hint: Any) -> Any:
    if name in spec.personal:
        return Sealed | None  # sealed as stored; null only when it was null
    if name == "originator_id":
        return UUID  # a TypeVar in the library's base class
    if hint is datetime:
        return Timestamp
    if typing.get_origin(hint) is typing.Union and datetime in typing.get_args(hint):
        return Timestamp | None
    return hint


@cache
def payload_struct(topic: str) -> type[msgspec.Struct]:
    """The Struct a published body of `topic` decodes into."""
    spec = catalog()[topic]
    hints = typing.get_type_hints(spec.cls)
    fields = [
        (f.name, _field_type(spec, f.name, hints[f.name])) for f in dataclasses.fields(spec.cls)
    ]
    return msgspec.defstruct(
        struct_name(spec), fields, frozen=True, forbid_unknown_fields=True, module=__name__
    )


def decode_body(topic: str, body: bytes) -> msgspec.Struct:
    """Decode a message body against its contract (msgspec.ValidationError if it breaks it)."""
    decoded: msgspec.Struct = msgspec.json.decode(body, type=payload_struct(topic))
    return decoded
