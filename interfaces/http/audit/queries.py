"""Audit queries: read straight from the log (no view, so no X-Trawl-Wait-For).

The global log and verify are for auditors and admins (403 otherwise); an
aggregate's history and past state also for the owner of the project it
belongs to (404 for anyone else: ids do not leak).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.audit.queries import MAX_PAGE, LogFilter
from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http.audit import schemas

Position = Annotated[int, QueryParameter(ge=0, le=2**62)]
Text = Annotated[str | None, QueryParameter(max_length=200)]
VERIFY_MAX = 5_000_000  # events one verify request walks; `next_cursor` goes on


class AuditQueries(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/events", sync_to_thread=True)
    def log(
        self,
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        after: Position = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
        aggregate_type: Text = None,
        event_type: Text = None,
        actor: Text = None,
        since: Annotated[datetime | None, QueryParameter()] = None,
        until: Annotated[datetime | None, QueryParameter()] = None,
    ) -> schemas.EventPage:
        """The global log after a position, oldest first, optionally filtered."""
        where = LogFilter(aggregate_type, event_type, actor, since, until)
        page = trawl.audit.events(caller, after, limit, where)
        return schemas.EventPage(
            items=[schemas.Event.of(e) for e in page.items],
            next_cursor=None if page.next_after is None else str(page.next_after),
        )

    @get("/aggregates/{aggregate_id:uuid}/events", sync_to_thread=True)
    def history(
        self,
        aggregate_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        after_version: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 100,
    ) -> schemas.EventPage:
        """One aggregate's events after a version; `next_cursor` is a version."""
        items = trawl.audit.history(caller, aggregate_id, after_version, limit)
        more = len(items) == limit
        return schemas.EventPage(
            items=[schemas.Event.of(e) for e in items],
            next_cursor=str(items[-1].version) if more else None,
        )

    @get("/aggregates/{aggregate_id:uuid}/state", sync_to_thread=True)
    def state(
        self,
        aggregate_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
        at: Annotated[datetime | None, QueryParameter()] = None,
    ) -> schemas.State:
        """The aggregate at `version`, or as it was at instant `at` (RFC 3339)."""
        return schemas.State.of(trawl.audit.state(caller, aggregate_id, version, at))

    @get("/verify", sync_to_thread=True)
    def verify(
        self,
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        after: Position = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=VERIFY_MAX)] = VERIFY_MAX,
    ) -> schemas.Verification:
        """Recompute the hash chain after a position; names the first bad one."""
        result = trawl.audit.verify(caller, after, limit)
        return schemas.Verification.of(result, more=result.verified == limit)
