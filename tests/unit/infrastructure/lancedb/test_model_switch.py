"""Which model answers a project's searches while its model changes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from infrastructure.lancedb.search import LanceSearchIndex
from infrastructure.lancedb.tables import LanceTables

pytestmark = pytest.mark.unit

OLD, NEW = "wordllama/l2_supercat-256", "bedrock/amazon.titan-embed-text-v2:0/512"


@pytest.mark.parametrize(
    ("answering", "answers"),
    [
        (None, NEW),  # nothing indexed yet: the project's model
        (OLD, OLD),  # the switch is under way: the old vectors still answer
        (NEW, NEW),  # complete: switched
    ],
)
def test_the_model_the_projection_calls_complete_answers(
    tmp_path: Path, answering: str | None, answers: str
) -> None:
    index = LanceSearchIndex(LanceTables(str(tmp_path)), lambda: 1, lambda _: answering)
    assert index.model_of(uuid.uuid4(), NEW) == answers
