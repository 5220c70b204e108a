"""Snapshotted aggregates come back from a snapshot exactly as they were."""

from __future__ import annotations

import uuid

import pytest

from application.store import TrawlStore
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.memory.recorder import MemoryRecorder
from infrastructure.memory.vault import MemoryKeyVault

pytestmark = pytest.mark.unit

CTX = Context.system("test")


def test_only_aggregates_without_personal_data_are_snapshotted() -> None:
    assert set(TrawlStore.snapshotting_intervals or {}) == {Project}


def test_a_project_restored_from_its_snapshot_equals_the_project() -> None:
    store = TrawlStore({}, MemoryKeyVault(), lambda _: MemoryRecorder())
    project = Project.create(CTX, uuid.uuid4(), uuid.uuid4(), "Reef", "about reefs")
    project.rename(CTX, "Atoll")
    project.archive(CTX)
    store.save(project)
    store.take_snapshot(project.id)
    assert store.snapshots is not None
    restored = store.repository.get(project.id)
    assert vars(restored) == vars(project)
    assert {k: type(v) for k, v in vars(restored).items()} == {
        k: type(v) for k, v in vars(project).items()
    }
