"""Bodies of the system routes."""

from __future__ import annotations

from interfaces.http.schemas import Schema


class Health(Schema):
    status: str


class Projection(Schema):
    """How far a view has read the log, how far behind the head it is, and
    how many events it set aside."""

    name: str
    position: int
    head: int
    lag: int
    # Events the view could not apply and set aside (see the README); `trawl
    # rebuild --view NAME` applies them again.
    parked: int = 0


class RelayProgress(Schema):
    """How far the event stream is behind the log: events not yet published, and
    the age in seconds of the oldest of them (0 when caught up)."""

    position: int
    head: int
    lag_events: int
    lag_seconds: float


class Projections(Schema):
    items: list[Projection]
    relay: RelayProgress | None = None  # null when no relay ever ran on this database


class JobKind(Schema):
    """One kind of job in the queue (fetch, extract, chunk, vectorize, refresh):
    due (waiting for a worker now), leased (running), waiting (a retry or
    refresh due later), and how long the oldest due job has waited."""

    kind: str
    due: int
    leased: int
    waiting: int
    oldest_due_seconds: float


class Jobs(Schema):
    items: list[JobKind]  # kinds with no job are left out
