"""Audit queries: the global log, one aggregate's history, its past state.

Auditors and admins read everything. The owner of a project reads the
history and past states of the project and of its URLs, shares, links and
invitations (also after the project was deleted: its history stays
readable here). Anyone else gets NotFound for an aggregate (ids do not
leak) and Forbidden for the global log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from application.audit.chain import VerifyResult
from application.audit.events import (
    AGGREGATE_TYPES,
    TOPICS,
    AuditEvent,
    present,
    split_topic,
    state_of,
)
from application.audit.verification import ChainVerifier
from application.auth.errors import Forbidden
from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound, TrawlStore
from domain.projects.aggregate import Project

MAX_PAGE = 1000
SCAN_LIMIT = 20_000  # events examined per page at most; the page then ends early


@dataclass(frozen=True)
class LogFilter:
    aggregate_type: str | None = None
    event_type: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def topics(self) -> list[str]:
        """The topics to select (empty = all)."""
        topics = list(TOPICS)
        if self.aggregate_type is not None:
            if self.aggregate_type not in AGGREGATE_TYPES:
                raise InvalidRequest(f"unknown aggregate type {self.aggregate_type!r}")
            topics = [t for t in topics if split_topic(t)[0] == self.aggregate_type]
        if self.event_type is not None:
            wanted = self.event_type.removeprefix("trawl:")
            topics = [t for t in topics if t.removeprefix("trawl:") == wanted]
            if not topics:
                raise InvalidRequest(f"unknown event type {self.event_type!r}")
        return [] if len(topics) == len(TOPICS) else topics


@dataclass(frozen=True)
class EventPage:
    items: list[AuditEvent]
    next_after: int | None  # pass as `after` for the next page; None at the head


@dataclass(frozen=True)
class PastState:
    aggregate_id: UUID
    aggregate_type: str
    version: int
    created_at: datetime
    modified_at: datetime
    state: dict[str, Any]


class AuditQueries:
    def __init__(self, store: TrawlStore) -> None:
        self.store = store
        self.verifier = ChainVerifier(store.audit_log)

    def verify(self, caller: Caller, after: int = 0, limit: int | None = None) -> VerifyResult:
        """Walk the hash chain after a position (auditors and admins)."""
        if not caller.is_auditor:
            raise Forbidden("verifying the log is for auditors and admins")
        return self.verifier.verify(after=after, limit=limit)

    def events(self, caller: Caller, after: int, limit: int, where: LogFilter) -> EventPage:
        """The global log after a position, filtered (auditors and admins)."""
        if not caller.is_auditor:
            raise Forbidden("the global log is for auditors and admins")
        items: list[AuditEvent] = []
        topics, scanned, last = where.topics(), 0, after
        while len(items) < limit and scanned < SCAN_LIMIT:
            batch = self.store.recorder.select_notifications(
                last + 1, min(SCAN_LIMIT, 4 * limit), topics=topics
            )
            if not batch:
                return EventPage(items, None)
            for notification in batch:
                scanned += 1
                last = notification.id
                event = self.store.mapper.to_domain_event(notification)
                if _matches(event, where):
                    items.append(present(notification, event))
                    if len(items) == limit:
                        break
        more = last < self.store.head()
        return EventPage(items, last if more else None)

    def history(
        self, caller: Caller, aggregate_id: UUID, after_version: int, limit: int
    ) -> list[AuditEvent]:
        """One aggregate's events after a version, oldest first."""
        self._visible(caller, aggregate_id)
        log = self.store.audit_log
        return [
            present(n, self.store.mapper.to_domain_event(n))
            for n in log.aggregate_notifications(aggregate_id, after_version, limit)
        ]

    def state(
        self,
        caller: Caller,
        aggregate_id: UUID,
        version: int | None = None,
        at: datetime | None = None,
    ) -> PastState:
        """The aggregate at a version, or as it was at an instant."""
        current = self._visible(caller, aggregate_id)
        if at is not None:
            version = self._version_at(aggregate_id, current.version, at)
        if version is not None and not 1 <= version <= current.version:
            raise NotFound(f"no version {version}: the aggregate is at {current.version}")
        past = current if version in (None, current.version) else self._get(aggregate_id, version)
        return PastState(
            aggregate_id=past.id,
            aggregate_type=str(getattr(type(past), "TOPIC", "")).partition(":")[2],
            version=past.version,
            created_at=past.created_on,
            modified_at=past.modified_on,
            state=state_of(past),
        )

    def _get(self, aggregate_id: UUID, version: int | None = None) -> Aggregate:
        try:
            aggregate: Aggregate = self.store.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound("aggregate not found") from None
        return aggregate

    def _visible(self, caller: Caller, aggregate_id: UUID) -> Aggregate:
        aggregate = self._get(aggregate_id)
        if caller.is_auditor:
            return aggregate
        project_id = aggregate.id if isinstance(aggregate, Project) else None
        project_id = project_id or getattr(aggregate, "project_id", None)
        if caller.user_id is None or project_id is None:
            raise NotFound("aggregate not found")
        project = aggregate if isinstance(aggregate, Project) else self._get(project_id)
        if getattr(project, "owner_id", None) != caller.user_id:
            raise NotFound("aggregate not found")
        return aggregate

    def _version_at(self, aggregate_id: UUID, newest: int, at: datetime) -> int:
        """The last version recorded at or before `at` (binary search on times)."""
        if at.tzinfo is None:
            raise InvalidRequest("`at` needs a time zone (RFC 3339)")
        low, high = 0, newest  # invariant: time(low) <= at < time(high + 1)
        while low < high:
            middle = (low + high + 1) // 2
            [n] = self.store.audit_log.aggregate_notifications(aggregate_id, middle - 1, 1)
            event: Any = self.store.mapper.to_domain_event(n)
            if event.timestamp <= at:
                low = middle
            else:
                high = middle - 1
        if low == 0:
            raise NotFound("the aggregate did not exist yet at that time")
        return low


def _matches(event: Any, where: LogFilter) -> bool:
    if where.actor is not None and getattr(event, "actor", None) != where.actor:
        return False
    if where.since is not None and event.timestamp < where.since:
        return False
    return not (where.until is not None and event.timestamp >= where.until)
