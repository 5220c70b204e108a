"""`access`: what the authorization lookup adds to a query.

The same query (one project from the projects view) read N times by a
viewer who holds a share, with the policy (view read + the access-view
lookup of the caller's role) and without it (the view read alone), in one
run on the same database. Target: the policy adds <= 1 ms at p50.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from uuid import UUID

from application.auth.principal import Caller
from bench.projection import trawl_on
from bench.report import Figure
from domain.common import Context
from domain.users.aggregate import User
from interfaces.bootstrap import Trawl

TARGET_ADDED_MS = 1.0


def _latencies(call: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def _viewer_world(t: Trawl) -> tuple[Caller, UUID]:
    ctx = Context.system("bench")
    owner_id = t.users.register(ctx, "owner@bench.example", "correct horse battery", "O").id
    viewer_id = t.users.register(ctx, "viewer@bench.example", "correct horse battery", "V").id
    viewer = t.store.load(User, viewer_id)
    viewer.verify_email(ctx)
    t.store.commit(viewer)
    owner = Caller.user(owner_id, "user")
    project = t.projects.create(owner, "Bench project")
    share = t.shares.grant(owner, project.id, "viewer@bench.example", "viewer")
    for projector in t.projectors:
        projector.catch_up()
    assert share.position > 0
    return Caller.user(viewer_id, "user"), project.id


def run(url: str, count: int, command: str) -> list[Figure]:
    with trawl_on(url) as trawl:
        viewer, project_id = _viewer_world(trawl)
        queries, view = trawl.project_queries, trawl.project_queries.view
        assert queries.get(viewer, project_id).role == "viewer"
        _latencies(lambda: queries.get(viewer, project_id), 200)
        with_policy, without = [], []
        for _ in range(5):  # interleaved rounds, so drift favours neither side
            with_policy += _latencies(lambda: queries.get(viewer, project_id), count // 5)
            without += _latencies(lambda: view.get(project_id), count // 5)
    p50_with, p50_without = statistics.median(with_policy), statistics.median(without)
    added = p50_with - p50_without
    return [
        Figure(
            section="access",
            name="GET one project as a viewer: p50 with the access policy",
            value=p50_with,
            baseline_name="the same view read without the policy",
            baseline=p50_without,
            unit="ms",
            target=f"adds <= {TARGET_ADDED_MS} ms",
            passed=added <= TARGET_ADDED_MS,
            command=command,
            details={"added_ms_p50": round(added, 3), "samples": len(with_policy)},
        )
    ]
