"""The audit's pluggable reports: `rebuild --check` and the deletion report.

Each component registers its checks (see `RebuildCheck`, `DeletionCheck` in
ports.py); these use cases run them all and collect their findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from application.audit.ports import DeletionCheck, Finding, Progress, RebuildCheck
from application.store import InvalidRequest, TrawlStore
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url

URL_ADDED = getattr(Url.Added, "TOPIC")  # noqa: B009


def rebuild_check(
    checks: Sequence[RebuildCheck], progress: Callable[[str], Progress | None] | None = None
) -> list[Finding]:
    """Run every registered rebuild check (`progress(name)` gives each its reporter)."""
    return [check.run(progress(check.name) if progress else None) for check in checks]


@dataclass(frozen=True)
class DeletionReport:
    project_id: UUID
    deleted_at: str
    url_ids: list[UUID]
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)


class DeletionReporter:
    """Proves that a deleted project left every registered store."""

    def __init__(self, store: TrawlStore, checks: Sequence[DeletionCheck]) -> None:
        self.store = store
        self.checks = checks

    def report(self, project_id: UUID) -> DeletionReport:
        project = self.store.load(Project, project_id)
        if not project.is_deleted:
            raise InvalidRequest("the project is not deleted")
        url_ids = self.url_ids(project_id)
        return DeletionReport(
            project_id=project_id,
            deleted_at=project.modified_on.isoformat(),
            url_ids=url_ids,
            findings=[check.run(project_id, url_ids) for check in self.checks],
        )

    def url_ids(self, project_id: UUID) -> list[UUID]:
        """Every URL ever added to the project, from the log (views may have forgotten)."""
        needles = (project_id.hex.encode(), str(project_id).encode())
        found: list[UUID] = []
        start = 1
        while batch := self.store.recorder.select_notifications(start, 5000, topics=[URL_ADDED]):
            for notification in batch:
                # Cheap test on the bytes first; decode only the likely ones.
                if any(needle in notification.state for needle in needles):
                    event = self.store.mapper.to_domain_event(notification)
                    if getattr(event, "project_id", None) == project_id:
                        found.append(event.originator_id)
            start = batch[-1].id + 1
        return found
