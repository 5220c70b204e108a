"""Which model answers a project's searches while its model changes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from infrastructure.lancedb.search import LanceSearchIndex
from infrastructure.lancedb.tables import LanceTables

pytestmark = pytest.mark.unit

OLD, NEW = "wordllama/l2_supercat-256", "bedrock/amazon.titan-embed-text-v2:0/512"


def index(tmp_path: Path, counts: dict[str, int]) -> LanceSearchIndex:
    return LanceSearchIndex(LanceTables(str(tmp_path)), lambda: 1, lambda _: counts)


@pytest.mark.parametrize(
    ("counts", "answers"),
    [
        ({}, NEW),  # nothing indexed yet: the project's model
        ({OLD: 10}, OLD),  # the switch has not started
        ({OLD: 10, NEW: 9}, OLD),  # under way: the old vectors still answer
        ({OLD: 10, NEW: 10}, NEW),  # complete: switched
        ({NEW: 3}, NEW),
    ],
)
def test_the_new_model_answers_once_it_holds_as_many_urls(
    tmp_path: Path, counts: dict[str, int], answers: str
) -> None:
    assert index(tmp_path, counts).model_of(uuid.uuid4(), NEW) == answers
