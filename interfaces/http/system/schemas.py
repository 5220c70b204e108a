"""Bodies of the system routes."""

from __future__ import annotations

from interfaces.http.schemas import Schema


class Health(Schema):
    status: str


class Projection(Schema):
    """How far a view has read the log, and how far behind the head it is."""

    name: str
    position: int
    head: int
    lag: int


class Projections(Schema):
    items: list[Projection]
