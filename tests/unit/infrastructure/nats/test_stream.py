"""What makes an existing stream unfit to be Trawl's (refused, never changed silently)."""

from __future__ import annotations

import pytest
from nats.js.api import RetentionPolicy, StorageType

from infrastructure.nats.stream import StreamSpec, incompatibilities

pytestmark = pytest.mark.unit

SPEC = StreamSpec(name="TRAWL", prefix="trawl")


def test_our_own_configuration_is_compatible() -> None:
    assert incompatibilities(SPEC, SPEC.config()) == []


def test_different_limits_are_compatible_they_are_updated() -> None:
    other = StreamSpec(name="TRAWL", prefix="trawl", duplicate_window=5, max_age=60, max_msgs=9)
    assert incompatibilities(SPEC, other.config()) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"subjects": ["orders.>"]}, "subjects"),
        ({"subjects": ["trawl.>", "more.>"]}, "subjects"),
        ({"storage": StorageType.MEMORY}, "storage"),
        ({"retention": RetentionPolicy.WORK_QUEUE}, "retention"),
        ({"sealed": True}, "sealed"),
    ],
)
def test_other_shapes_are_refused_with_the_reason(change: dict[str, object], reason: str) -> None:
    found = SPEC.config().evolve(**change)
    [problem] = incompatibilities(SPEC, found)
    assert reason in problem
