"""docs/events.md lists every event type the domain can record."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.common import event_classes
from domain.registry import AGGREGATES

pytestmark = pytest.mark.unit

EVENTS_DOC = (Path(__file__).parents[2] / "docs" / "events.md").read_text()


@pytest.mark.parametrize("aggregate", AGGREGATES)
def test_every_event_topic_is_documented(aggregate: type) -> None:
    for cls in event_classes(aggregate):
        assert f"`{cls.TOPIC}`" in EVENTS_DOC, cls.TOPIC
