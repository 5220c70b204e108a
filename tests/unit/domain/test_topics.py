import pytest
from eventsourcing.utils import get_topic, resolve_topic

from domain import registry
from domain.common import event_classes
from domain.projects.aggregate import Project
from domain.users.aggregate import User

pytestmark = pytest.mark.unit

AGGREGATES = list(registry.AGGREGATES)
EVENT_CLASSES = [cls for aggregate in AGGREGATES for cls in event_classes(aggregate)]


def test_the_registry_holds_users_and_projects_with_all_their_events() -> None:
    names = {(a.__name__, c.__name__) for a in AGGREGATES for c in event_classes(a)}

    assert {User, Project} <= set(AGGREGATES)
    assert {("User", c.__name__) for c in event_classes(User)} <= names
    assert len(event_classes(User)) == 7
    assert len(event_classes(Project)) == 9


@pytest.mark.parametrize("cls", EVENT_CLASSES + AGGREGATES, ids=lambda c: c.__qualname__)
def test_topic_is_explicit_and_in_the_trawl_namespace(cls: type) -> None:
    topic = getattr(cls, "TOPIC", None)

    assert isinstance(topic, str)
    assert topic.startswith("trawl:")
    # Stored events name their class by the explicit topic, not by its module path.
    assert get_topic(cls) == topic
    assert resolve_topic(topic) is cls


def test_topics_are_unique() -> None:
    topics = [cls.TOPIC for cls in EVENT_CLASSES + AGGREGATES]  # type: ignore[attr-defined]

    assert len(set(topics)) == len(topics)


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=lambda a: a.__name__)
def test_event_topics_are_namespaced_by_their_aggregate(aggregate: type) -> None:
    prefix = aggregate.TOPIC + "."  # type: ignore[attr-defined]

    for cls in event_classes(aggregate):
        assert cls.TOPIC.startswith(prefix)  # type: ignore[attr-defined]
