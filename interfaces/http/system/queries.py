"""System routes: liveness, readiness, the projections' and relay's progress,
the job queue's backlog, the event stream's AsyncAPI document.

`/metrics` is Litestar's PrometheusController (registered by the plugin).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency

from application.auth.errors import Forbidden
from application.auth.principal import Caller
from infrastructure.nats import asyncapi
from interfaces.bootstrap import Trawl
from interfaces.http.errors import HttpProblem
from interfaces.http.system import schemas


class SystemQueries(Controller):
    tags = ["system"]

    @get("/health/live", sync_to_thread=False)
    def live(self) -> schemas.Health:
        """The process answers."""
        return schemas.Health(status="ok")

    @get("/health/ready", sync_to_thread=True)
    def ready(self, trawl: NamedDependency[Trawl]) -> schemas.Health:
        """The database answers (503 otherwise)."""
        if not trawl.ping():
            raise HttpProblem(503, "unavailable", "the database does not answer")
        return schemas.Health(status="ready")

    @get("/api/v1/system/projections", sync_to_thread=True)
    def projections(
        self, caller: NamedDependency[Caller], trawl: NamedDependency[Trawl]
    ) -> schemas.Projections:
        """Each view's position, lag behind the log head and parked events; the
        relay's progress."""
        positions = trawl.positions.positions()
        relay = trawl.relay_status()
        parked = trawl.parked()
        head = trawl.store.head()  # read second: a lag is never under-reported
        return schemas.Projections(
            relay=None
            if relay is None
            else schemas.RelayProgress(
                position=relay.position,
                head=relay.head,
                lag_events=relay.lag_events,
                lag_seconds=round(relay.lag_seconds, 3),
            ),
            items=[
                schemas.Projection(
                    name=name,
                    position=positions.get(name, 0),
                    head=head,
                    lag=max(head - positions.get(name, 0), 0),
                    parked=parked.get(name, 0),
                )
                for name in trawl.views
            ],
        )

    @get("/api/v1/system/jobs", sync_to_thread=True)
    def jobs(self, caller: NamedDependency[Caller], trawl: NamedDependency[Trawl]) -> schemas.Jobs:
        """The job queue kind by kind (admins only): a kind whose due jobs keep
        ageing has no worker running it (`TRAWL_WORKER_JOBS`) or too few."""
        if not caller.is_admin:
            raise Forbidden("the job queue is for admins")
        return schemas.Jobs(items=[schemas.JobKind(**asdict(b)) for b in trawl.job_backlog()])

    @get("/asyncapi.json", sync_to_thread=False)
    def asyncapi(self, trawl: NamedDependency[Trawl]) -> dict[str, Any]:
        """The AsyncAPI 3 document of the event stream on NATS (subjects and payloads)."""
        return asyncapi.document_for(trawl.settings.nats_subject_prefix)
