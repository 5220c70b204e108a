"""What the audit use cases need from the outside: the log's raw side.

`AuditLog` is implemented by the application recorders (Postgres and
memory): the chain's rows and links, and one aggregate's notifications with
their positions. `RebuildCheck` and `DeletionCheck` are the pluggable checks
of `trawl rebuild --check` and `trawl audit deletion-report`: each component
(Postgres views today; search and blobs later) registers its own in
bootstrap, and the reports list every registered check's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

from application.audit.chain import ChainRow


class AuditLog(Protocol):
    def chain_rows(self, after: int = 0, upto: int | None = None) -> Iterator[ChainRow]:
        """Events and links after `after` (up to `upto`), in position order."""
        ...

    def link_at(self, position: int) -> bytes | None:
        """The stored link at a position (GENESIS at 0, None when missing)."""
        ...

    def chain_head(self) -> tuple[int, bytes]:
        """The newest link and its position."""
        ...

    def aggregate_notifications(
        self, originator_id: UUID, after_version: int, limit: int
    ) -> list[Notification]:
        """One aggregate's stored events (with positions) after a version."""
        ...


Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class Finding:
    """One check's answer: `ok`, and what differs or remains when not."""

    check: str
    ok: bool
    summary: str
    details: Sequence[str] = field(default_factory=tuple)


class RebuildCheck(Protocol):
    """Rebuilds one derived store aside and compares it with the live one."""

    name: str

    def run(self, progress: Progress | None = None) -> Finding: ...


class DeletionCheck(Protocol):
    """Proves that a deleted project (and its URLs) left one store."""

    name: str

    def run(self, project_id: UUID, url_ids: Sequence[UUID]) -> Finding: ...
