"""Any sequence of project commands keeps the invariants, and replays to the same state."""

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from application.store import TrawlStore
from domain.common import Context, DomainError
from domain.projects import errors, values
from domain.projects.aggregate import ACTIVE, ARCHIVED, DELETED, Project
from infrastructure.memory.recorder import MemoryRecorder
from infrastructure.memory.vault import MemoryKeyVault

pytestmark = pytest.mark.unit

CTX = Context("user:owner", "corr")

names = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["  Research  ", "Research", "", "   ", "a\x00b", "tab\there", "x" * 201]),
    st.text(alphabet="ab ", min_size=195, max_size=206),
)
descriptions = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "  fish  ", "line\nbreak", "bell\x07", "d" * 2001, "d" * 2000]),
)


def valid(text: str, limit: int, low: int, allowed: str = "") -> bool:
    """The model of the value rules, written independently of domain/projects/values.py."""
    value = text.strip()
    controls = [c for c in value if (ord(c) < 32 or 127 <= ord(c) < 160) and c not in allowed]
    return low <= len(value) <= limit and not controls


class ProjectCommands(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = TrawlStore({}, MemoryKeyVault(), lambda _: MemoryRecorder())
        self.project = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Start")
        self.store.save(self.project)
        # The model: what the project should look like.
        self.status, self.name, self.description = ACTIVE, "Start", ""

    def attempt(self, command, expected_error, changes: bool) -> None:  # type: ignore[no-untyped-def]
        before = self.project.version
        if expected_error is not None:
            with pytest.raises(expected_error):
                command()
        else:
            command()
        self.store.save(self.project)
        if expected_error is not None or not changes:
            assert self.project.version == before
        else:
            assert self.project.version == before + 1

    def state_error(self, allowed: tuple[str, ...] = (ACTIVE,)) -> type[DomainError] | None:
        if self.status == DELETED:
            return errors.ProjectDeleted
        if self.status not in allowed:
            return errors.ProjectArchived if self.status == ARCHIVED else errors.ProjectNotArchived
        return None

    @rule(name=names)
    def rename(self, name: str) -> None:
        error = None if valid(name, 200, 1) else errors.InvalidName
        error = error or self.state_error()
        changes = error is None and name.strip() != self.name
        self.attempt(lambda: self.project.rename(CTX, name), error, changes)
        if changes:
            self.name = name.strip()

    @rule(description=descriptions)
    def change_description(self, description: str) -> None:
        ok = valid(description, 2000, 0, allowed="\n\r\t")
        error = (None if ok else errors.InvalidDescription) or self.state_error()
        changes = error is None and description.strip() != self.description
        self.attempt(lambda: self.project.change_description(CTX, description), error, changes)
        if changes:
            self.description = description.strip()

    @rule()
    def archive(self) -> None:
        error = self.state_error()
        self.attempt(lambda: self.project.archive(CTX), error, True)
        if error is None:
            self.status = ARCHIVED

    @rule()
    def restore(self) -> None:
        error = self.state_error(allowed=(ARCHIVED,))
        if self.status == ACTIVE:
            error = errors.ProjectNotArchived
        self.attempt(lambda: self.project.restore(CTX), error, True)
        if error is None:
            self.status = ACTIVE

    @rule()
    def delete(self) -> None:
        error = errors.ProjectDeleted if self.status == DELETED else None
        self.attempt(lambda: self.project.delete(CTX), error, True)
        if error is None:
            self.status = DELETED

    @invariant()
    def follows_the_model(self) -> None:
        assert self.project.status in (ACTIVE, ARCHIVED, DELETED)
        assert (self.project.status, self.project.name, self.project.description) == (
            self.status,
            self.name,
            self.description,
        )
        assert values.normalize_name(self.project.name) == self.project.name

    @invariant()
    def replaying_the_stored_events_gives_the_same_state(self) -> None:
        loaded = self.store.load(Project, self.project.id)
        assert vars(loaded) == vars(self.project)

    @invariant()
    def nothing_is_recorded_after_deletion(self) -> None:
        notifications = self.store.recorder.select_notifications(1, limit=10_000)
        topics = [n.topic for n in notifications]
        if Project.Deleted.TOPIC in topics:
            assert topics[-1] == Project.Deleted.TOPIC
            assert topics.count(Project.Deleted.TOPIC) == 1


ProjectCommands.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_project_commands_keep_invariants = ProjectCommands.TestCase
