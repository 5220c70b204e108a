"""System routes: liveness, readiness, the projections' progress.

`/metrics` is Litestar's PrometheusController (registered by the plugin).
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from application.auth.principal import Caller
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
        """Each view's position and lag behind the log head."""
        positions = trawl.positions.positions()
        head = trawl.store.head()  # read second: a lag is never under-reported
        return schemas.Projections(
            items=[
                schemas.Projection(
                    name=name,
                    position=positions.get(name, 0),
                    head=head,
                    lag=max(head - positions.get(name, 0), 0),
                )
                for name in trawl.views
            ]
        )
