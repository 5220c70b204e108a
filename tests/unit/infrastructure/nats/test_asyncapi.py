"""The AsyncAPI document covers every event, matches the payloads, and is checked in."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from domain.common import event_classes
from domain.registry import AGGREGATES
from infrastructure.nats import asyncapi
from infrastructure.nats.contract import struct_name
from infrastructure.nats.subjects import spec_for

pytestmark = pytest.mark.unit

CHECKED_IN = Path(__file__).parents[4] / "docs" / "asyncapi.json"
TOPICS = [cls.TOPIC for aggregate in AGGREGATES for cls in event_classes(aggregate)]


@pytest.fixture(scope="module")
def document() -> dict[str, object]:
    return asyncapi.document("trawl")


def test_it_is_asyncapi_3(document: dict[str, object]) -> None:
    assert document["asyncapi"] == "3.0.0"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_registered_event_topic_has_a_channel_message_and_payload(
    document: dict[str, object], topic: str
) -> None:
    spec = spec_for(topic)
    name = struct_name(spec)
    channels: dict[str, dict[str, object]] = document["channels"]  # type: ignore[assignment]
    components: dict[str, dict[str, dict[str, object]]] = document["components"]  # type: ignore[assignment]
    assert channels[spec.name]["address"] == f"trawl.{spec.name}"
    message = components["messages"][name]
    assert message["x-trawl-topic"] == topic
    payload = components["schemas"][name]
    assert payload["required"] == [f.name for f in dataclasses.fields(spec.cls)]
    for field in spec.personal:
        assert "Sealed" in json.dumps(payload["properties"][field])  # type: ignore[index]


def test_every_operation_sends_on_a_channel_of_the_document(document: dict[str, object]) -> None:
    channels: dict[str, object] = document["channels"]  # type: ignore[assignment]
    operations: dict[str, dict[str, dict[str, str]]] = document["operations"]  # type: ignore[assignment]
    assert len(operations) == len(TOPICS)
    for operation in operations.values():
        assert operation["action"] == "send"  # type: ignore[comparison-overlap]
        assert operation["channel"]["$ref"].removeprefix("#/channels/") in channels


def test_the_prefix_moves_every_address() -> None:
    channels = asyncapi.document("acme.events")["channels"]
    assert all(c["address"].startswith("acme.events.") for c in channels.values())


def test_the_checked_in_document_is_the_generated_one() -> None:
    # Regenerate with: python -m infrastructure.nats.asyncapi > docs/asyncapi.json
    assert CHECKED_IN.read_text() == asyncapi.render("trawl")


def test_schemas_are_draft_07_as_asyncapi_expects(document: dict[str, object]) -> None:
    text = json.dumps(document)
    assert "prefixItems" not in text
    chunks = document["components"]["schemas"]["UrlChunked"]["properties"]["chunks"]  # type: ignore[index]
    assert chunks["items"]["items"][0] == {"type": "string", "format": "uuid"}
    assert chunks["items"]["additionalItems"] is False
