"""THE event-sourced application: one log for every aggregate.

`TrawlStore` is an `eventsourcing` Application named `trawl` (table
`trawl_events`). Its recorder is injected (Postgres in production, memory in
unit tests) and writes side records (claims, idempotency, credentials) in the
same transaction as the events. `commit()` is the one way use cases save.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    Mapper,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import Environment

from application import records
from application.audit.ports import AuditLog
from application.personal import PersonalDataMapper
from application.ports import KeyVault, SideTables
from application.transcoding import FastJSONTranscoder
from domain import registry as _registry  # noqa: F401 - registers every event topic
from domain.projects.aggregate import Project

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

SNAPSHOT_EVERY = 100


class ManyReads(Protocol):
    """Both recorders read the events of several aggregates in one go."""

    def select_events_of(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]: ...


RecorderFactory = Callable[[InfrastructureFactory[Any]], ApplicationRecorder]


class NotFound(Exception):
    """No such aggregate (or not visible): HTTP 404."""

    slug = "not-found"


class InvalidRequest(Exception):
    """A query or command argument is malformed: HTTP 400."""

    slug = "invalid-request"


class VersionConflict(Exception):
    """The aggregate moved on since the caller read it: HTTP 412 or 409."""

    slug = "version-conflict"


@dataclass(frozen=True)
class IdempotencyRequest:
    """What the HTTP edge knows about a request carrying `Idempotency-Key`."""

    principal: str
    method: str
    path: str
    key: str
    request_hash: str
    status: int


@dataclass(frozen=True)
class CommandResult:
    """The answer to every command: the aggregate's id and version, the position."""

    id: UUID
    version: int
    position: int
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            "position": self.position,
            **self.extra,
        }


def _replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its per-event runtime-Protocol
    isinstance check (an assert that costs ~10 us an event on Python 3.11):
    every stored event here is one of our aggregates' events."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class TrawlStore(Application[UUID]):
    """One application, one stored-events table, one global ordered log."""

    name = "trawl"
    # Snapshots make past states cheap to rebuild (the audit's state-at-version).
    # Only aggregates without personal data (a snapshot holds state in
    # plaintext) whose state survives JSON: not Url, whose NamedTuples and
    # int-keyed dicts would come back as lists and string keys.
    snapshotting_intervals = {Project: SNAPSHOT_EVERY}

    def __init__(
        self,
        env: dict[str, str],
        vault: KeyVault,
        recorder_factory: RecorderFactory,
        factory: InfrastructureFactory[Any] | None = None,
    ) -> None:
        self._vault = vault
        self._recorder_factory = recorder_factory
        self._factory = factory
        super().__init__(env)
        # Aggregates never snapshotted (Url, User, ...) load without asking the
        # snapshot table first: one query per load instead of two.
        self._unsnapshotted = Repository(self.repository.event_store)

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        return self._factory or super().construct_factory(env)

    def construct_transcoder(self) -> Transcoder:
        # The library's format, decoded by msgspec: every read of the log is faster.
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> Mapper[UUID]:
        return PersonalDataMapper(transcoder=self.construct_transcoder(), vault=self._vault)

    def construct_recorder(self) -> ApplicationRecorder:
        return self._recorder_factory(self.factory)

    @property
    def side(self) -> SideTables:
        """Strongly consistent reads of the side records."""
        side: SideTables = self.recorder  # type: ignore[assignment]
        return side

    @property
    def audit_log(self) -> AuditLog:
        """The raw log and its hash chain (both recorders implement it)."""
        log: AuditLog = self.recorder  # type: ignore[assignment]
        return log

    @property
    def vault(self) -> KeyVault:
        return self._vault

    def load(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate of that class, or NotFound."""
        snapshotted = cls in self.snapshotting_intervals
        repository = self.repository if snapshotted else self._unsnapshotted
        try:
            aggregate: Aggregate = repository.get(
                aggregate_id, version=version, projector_func=_replay
            )
        except AggregateNotFoundError:
            raise NotFound(f"{cls.__name__.lower()} not found") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{cls.__name__.lower()} not found")
        return aggregate

    def load_many(self, cls: type[A], aggregate_ids: Sequence[UUID]) -> dict[UUID, A]:
        """The aggregates of that class among `aggregate_ids`, by id (the rest
        are absent), read in one query: a batch of steps pays one round trip,
        not one per aggregate. Only for classes that are never snapshotted."""
        if cls in self.snapshotting_intervals:
            raise ValueError(f"{cls.__name__} is snapshotted: load it with load()")
        reads: ManyReads = self.recorder  # type: ignore[assignment]
        loaded = {}
        for aggregate_id, stored in reads.select_events_of(aggregate_ids).items():
            events = (self.mapper.to_domain_event(event) for event in stored)
            aggregate = _replay(None, events)
            if isinstance(aggregate, cls):
                loaded[aggregate_id] = aggregate
        return loaded

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def commit(
        self,
        *aggregates: Aggregate,
        side: Sequence[records.SideRecord] = (),
        idempotency: IdempotencyRequest | None = None,
        result_of: Aggregate | None = None,
        extra: dict[str, Any] | None = None,
        secret_fields: Sequence[str] = (),
    ) -> CommandResult:
        """Save the aggregates' new events with the side records, atomically.

        The result names `result_of` (default: the first aggregate). With an
        idempotency request, the answer is stored in the same transaction;
        fields listed in `secret_fields` are stored as null.
        """
        target = result_of or aggregates[0]
        extra = dict(extra or {})
        side = list(side)
        if idempotency is not None:
            stored_extra = {k: (None if k in secret_fields else v) for k, v in extra.items()}
            # First, so a concurrent twin fails on the key, not on a later claim.
            side.insert(
                0,
                records.IdempotencyRecord(
                    principal=idempotency.principal,
                    method=idempotency.method,
                    path=idempotency.path,
                    key=idempotency.key,
                    request_hash=idempotency.request_hash,
                    status=idempotency.status,
                    body={"id": str(target.id), "version": target.version, **stored_extra},
                ),
            )
        recordings = self.save(*aggregates, side=side)
        position = max((r.notification.id for r in recordings), default=0) or self.head()
        return CommandResult(target.id, target.version, position, extra)

    def retrying(self, command: Callable[[], T], attempts: int = 5) -> T:
        """Run a load-decide-save command again when a concurrent writer won.

        The command reloads and re-checks its invariants each time, so a retry
        never overwrites a newer state; callers holding an explicit expected
        version (If-Match) must not use this.
        """
        for attempt in range(attempts):
            try:
                return command()
            except IntegrityError:
                if attempt == attempts - 1:
                    raise VersionConflict("too many concurrent changes; retry") from None
        raise AssertionError("unreachable")
