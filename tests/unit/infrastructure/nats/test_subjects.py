"""Subject names: `<prefix>.<aggregate>.<event>`, from the registered event classes."""

from __future__ import annotations

import pytest

from domain.common import event_classes
from domain.registry import AGGREGATES
from infrastructure.nats.reading import subject_filter
from infrastructure.nats.subjects import catalog, check_prefix, snake, spec_for

pytestmark = pytest.mark.unit


def test_every_registered_event_has_a_subject() -> None:
    topics = {cls.TOPIC for aggregate in AGGREGATES for cls in event_classes(aggregate)}
    assert set(catalog()) == topics


def test_aggregates_are_the_six_of_the_design() -> None:
    aggregates = {spec.aggregate for spec in catalog().values()}
    assert aggregates == {"user", "project", "url", "share", "share_link", "invitation"}


def test_the_subject_is_the_prefix_the_aggregate_and_the_class_name_in_snake_case() -> None:
    assert spec_for("trawl:url.fetched").subject("trawl") == "trawl.url.fetched"
    assert spec_for("trawl:url.fetch_scheduled").subject("t1") == "t1.url.fetch_scheduled"
    assert spec_for("trawl:share_link.created").subject("a.b") == "a.b.share_link.created"
    assert spec_for("trawl:user.api_key_created").event == "api_key_created"


def test_subjects_agree_with_the_stored_topics() -> None:
    # Topics are stable strings; subjects derive from class names. They must agree,
    # or renaming a class would silently move its events to another subject.
    for topic, spec in catalog().items():
        assert topic == f"trawl:{spec.name}", topic


@pytest.mark.parametrize(
    ("name", "expected"),
    [("FetchScheduled", "fetch_scheduled"), ("ShareLink", "share_link"), ("Url", "url")],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake(name) == expected


@pytest.mark.parametrize("prefix", ["", "a.", "a.*", "a b", "a.>"])
def test_a_prefix_with_wildcards_or_empty_tokens_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="subject prefix"):
        check_prefix(prefix)


def test_personal_fields_are_known_per_event() -> None:
    assert spec_for("trawl:user.created").personal == ("email", "display_name")
    assert spec_for("trawl:invitation.created").personal == ("email",)
    assert spec_for("trawl:project.created").personal == ()


def test_tail_filters_accept_short_and_full_subjects_with_wildcards() -> None:
    matches = subject_filter("trawl", ["url.fetched", "project.*", "trawl.user.>"])
    assert matches("trawl.url.fetched")
    assert matches("trawl.project.renamed")
    assert matches("trawl.user.created")
    assert not matches("trawl.url.added")
    assert not matches("other.project.renamed")
    assert subject_filter("trawl", [])("trawl.url.added")
