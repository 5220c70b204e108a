"""docs/urls.md: its example tables run, and every rule it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.urls import errors
from domain.urls.components import TRACKING_PARAMETERS, TRACKING_PREFIXES
from domain.urls.normalize import normalize_url

pytestmark = pytest.mark.unit

DOC = (Path(__file__).parents[4] / "docs" / "urls.md").read_text()
ROWS = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|$", DOC, re.MULTILINE)


def test_the_doc_has_example_tables() -> None:
    assert len(ROWS) >= 25


@pytest.mark.parametrize(("raw", "expected"), ROWS)
def test_every_example_in_the_doc_holds(raw: str, expected: str) -> None:
    if expected in errors.REJECTION_REASONS:
        with pytest.raises(errors.InvalidUrl) as caught:
            normalize_url(raw)
        assert caught.value.reason == expected
    else:
        assert normalize_url(raw) == expected


def test_every_tracking_parameter_and_reason_is_documented() -> None:
    for name in [*TRACKING_PARAMETERS, *TRACKING_PREFIXES, *errors.REJECTION_REASONS]:
        assert f"`{name}" in DOC, name
