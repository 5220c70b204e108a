"""The AsyncAPI 3 document of the event stream, generated from the event classes.

One channel per event type (`<prefix>.<aggregate>.<event>`), one `send`
operation per channel (Trawl publishes; consumers receive), one message per
channel with its headers and payload schema. Payload schemas are the JSON
schemas of `contract.payload_struct`, so the document says what the relay
sends. `python -m infrastructure.nats.asyncapi` prints it (docs/asyncapi.json).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import msgspec

from infrastructure.nats import messages
from infrastructure.nats.contract import COMMON, payload_struct, struct_name
from infrastructure.nats.subjects import DEFAULT_PREFIX, EventSpec, catalog

VERSION = "1.0.0"

HEADER_DOCS = {
    messages.MSG_ID: "Event id: uuid5(namespace, '<aggregate id>:<version>'); the dedup key.",
    messages.POSITION: "The event's position in Trawl's global log (increasing, with holes).",
    messages.AGGREGATE_ID: "The aggregate's id (UUID).",
    messages.AGGREGATE_VERSION: "The aggregate's version after this event.",
    messages.EVENT_TYPE: "The event's stable topic, e.g. `trawl:url.fetched`.",
    messages.SCHEMA_VERSION: "Version of the payload schema (the event class version).",
    messages.OCCURRED_AT: "When the event happened (ISO 8601, UTC).",
}


HEADERS_SCHEMA = {
    "type": "object",
    "properties": {
        name: {"type": "string", "description": text} for name, text in HEADER_DOCS.items()
    },
    "required": list(HEADER_DOCS),
}


def _headers(spec: EventSpec) -> dict[str, Any]:
    """The common headers, with this message's type and schema version fixed."""
    fixed = {
        messages.EVENT_TYPE: {"const": spec.topic},
        messages.SCHEMA_VERSION: {"const": str(spec.schema_version)},
    }
    return {"allOf": [{"$ref": "#/components/schemas/Headers"}, {"properties": fixed}]}


def draft07(node: Any) -> Any:
    """msgspec writes tuples the JSON Schema 2020-12 way (`prefixItems`); AsyncAPI's
    schema format is a superset of draft 07, which spells them `items: [...]`."""
    if isinstance(node, list):
        return [draft07(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: draft07(value) for key, value in node.items()}
    if "prefixItems" in converted:
        converted["items"] = converted.pop("prefixItems")
        converted["additionalItems"] = False
    return converted


def document(prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The whole AsyncAPI 3.0 document for subjects under `prefix`."""
    specs = list(catalog().values())
    _, generated = msgspec.json.schema_components(
        [payload_struct(s.topic) for s in specs], ref_template="#/components/schemas/{name}"
    )
    schemas: dict[str, Any] = draft07(generated)
    for schema in schemas.values():
        for name, prop in schema.get("properties", {}).items():
            if name in COMMON:
                prop["description"] = COMMON[name]
    schemas["Headers"] = HEADERS_SCHEMA
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for spec in specs:
        name = struct_name(spec)
        channel = spec.name
        components[name] = {
            "name": name,
            "title": spec.topic,
            "summary": f"{spec.aggregate} {spec.event.replace('_', ' ')}",
            "contentType": "application/json",
            "headers": _headers(spec),
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "x-trawl-topic": spec.topic,
            "x-trawl-schema-version": spec.schema_version,
            "x-trawl-personal-fields": list(spec.personal),
        }
        channels[channel] = {
            "address": spec.subject(prefix),
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"send{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Trawl events",
            "version": VERSION,
            "description": (
                "Every event of Trawl's log, published once, in log order, to one JetStream"
                f" stream on subjects `{prefix}.<aggregate>.<event>`. Personal fields are"
                " sealed: `{enc, subject}`. See docs/stream.md."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": components, "schemas": schemas},
    }


@cache
def document_for(prefix: str) -> dict[str, Any]:
    """`document(prefix)`, built once per prefix (callers must not modify it)."""
    return document(prefix)


def render(prefix: str = DEFAULT_PREFIX) -> str:
    """The document as the JSON text kept in docs/asyncapi.json."""
    return json.dumps(document(prefix), indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
