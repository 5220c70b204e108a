"""Section `audit`: the hash chain's walk, rebuilds, past states, the chain's cost.

Over a log of N events (bench/projection.py's `fill_log`):

- `verify` (stream events and links, recompute every SHA-256 link) against a
  plain server-side-cursor select of the same rows with no hashing;
- a full rebuild (every Postgres view, blue/green, in one pass over the log)
  against select+decode; each view rebuilt alone, for context;
- the state of a project at version 9,999 of 10,000 (snapshots every 100)
  against folding all its events without snapshots;
- the chain's cost on the command path: 16 threads creating projects through
  `TrawlStore.commit` with the chain, against the same recorder without it,
  in alternating rounds (ABBA), so drift favours none. The target is on CPU
  per command (this process + its Postgres backends), which other load on
  the machine skews far less than commands/s (fsync-bound, shown for context).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from application.audit.verification import ChainVerifier
from application.auth.principal import Caller
from bench import cpu
from bench.projection import fill_log, select_and_decode, trawl_on
from bench.report import Figure
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.postgres.projector import Projector
from infrastructure.postgres.rebuild import rebuild, rebuild_all
from infrastructure.postgres.recorder import TrawlRecorder
from interfaces import bootstrap as wiring

VERIFY_TARGET, REBUILD_TARGET, STATE_TARGET_MS, CHAIN_COST_TARGET = 100_000, 30_000, 50.0, 0.10
AUDITOR = Caller.user(uuid.uuid4(), "auditor")


class UnchainedRecorder(TrawlRecorder):
    """The same recorder without the chain: no head read, no links written."""

    chained = False


def plain_select(datastore: Any) -> int:
    count = 0
    with (
        datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(name="bench_plain", binary=True) as curs,
    ):
        curs.itersize = 10_000
        curs.execute(
            "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state"
            " FROM trawl_events ORDER BY notification_id"
        )
        for _ in curs:
            count += 1
    return count


def rate(work: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = work()
    return count / (time.perf_counter() - started), count


def past_state_ms(trawl: Any, versions: int) -> tuple[float, float]:
    """Median ms of the state at version N-1 (snapshots) and of a fold of all events."""
    ctx, owner = Context.system("bench"), Caller.user(uuid.uuid4(), "user")
    project = Project.create(ctx, uuid.uuid4(), owner.account, "long history")
    trawl.store.save(project)
    for start in range(1, versions, 500):
        for n in range(start, min(start + 500, versions)):
            project.rename(ctx, f"name {n}")
        trawl.store.save(project)  # snapshots every 100 versions, as in production
    timings, folds = [], []
    for _ in range(7):
        began = time.perf_counter()
        trawl.audit.state(AUDITOR, project.id, version=versions - 1)
        timings.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        aggregate = None
        for event in trawl.store.events.get(project.id, lte=versions - 1):
            aggregate = event.mutate(aggregate)
        folds.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), statistics.median(folds)


def commands_per_second(url: str, seconds: float, threads: int = 16) -> tuple[float, float]:
    """Commands/s, and CPU ms per command (this process + its Postgres backends)."""
    with trawl_on(url) as trawl:
        owner = Caller.user(uuid.uuid4(), "user")
        counts, stop = [0] * threads, threading.Event()

        def work(index: int) -> None:
            while not stop.is_set():
                trawl.projects.create(owner, "bench")
                counts[index] += 1

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        time.sleep(min(1.0, seconds / 3))  # warm-up
        meter = cpu.Meter([os.getpid()], url)
        meter.start()
        first, began = sum(counts), time.perf_counter()
        time.sleep(seconds)
        done, elapsed = sum(counts) - first, time.perf_counter() - began
        python_cpu, postgres_cpu = meter.stop()
        stop.set()
        for worker in workers:
            worker.join()
    return done / elapsed, ((python_cpu or 0) + (postgres_cpu or 0)) / done * 1000


def chain_cost(url: str, seconds: float, rounds: int) -> dict[bool, tuple[float, float]]:
    """With the chain (True) and without: (commands/s, CPU ms per command),
    over ABBA rounds (throughput summed, CPU averaged)."""
    sides: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for chained in (True, False):  # discarded: the first rounds on a fresh database run slow
        setattr(wiring, "TrawlRecorder", TrawlRecorder if chained else UnchainedRecorder)  # noqa: B010
        commands_per_second(url, 1.0)
    order = [True, False, False, True] * rounds
    for chained in order[: 2 * rounds]:
        setattr(wiring, "TrawlRecorder", TrawlRecorder if chained else UnchainedRecorder)  # noqa: B010
        try:
            sides[chained].append(commands_per_second(url, seconds))
        finally:
            setattr(wiring, "TrawlRecorder", TrawlRecorder)  # noqa: B010
        throughput, cpu_ms = sides[chained][-1]
        label = "with" if chained else "without"
        print(f"  {label} chain: {throughput:,.0f}/s, {cpu_ms:.2f} ms CPU per command", flush=True)
    return {
        side: (statistics.mean(r for r, _ in runs), statistics.mean(c for _, c in runs))
        for side, runs in sides.items()
    }


def run(url: str, events: int, quick: bool, command: str) -> list[Figure]:
    with trawl_on(url) as trawl:
        datastore = trawl.store.recorder.datastore  # type: ignore[attr-defined]
        print(f"audit: writing {events:,} events ...", flush=True)
        fill_log(trawl, events)
        print("audit: verify vs plain select, full rebuild vs select+decode ...", flush=True)
        plains, verifies = [], []
        for _ in range(3):  # alternating, best of three: other load on the machine varies
            plains.append(rate(lambda: plain_select(datastore))[0])
            verifies.append(rate(lambda: ChainVerifier(trawl.store.audit_log).verify().verified))
        plain, (verify, verified) = max(plains), max(verifies)
        decode, _ = rate(lambda: select_and_decode(trawl, 2000))
        postgres = [p for p in trawl.projectors if isinstance(p, Projector)]  # not the search index
        full, _ = rate(lambda: rebuild_all(postgres))
        per_view = {p.view: rate(lambda p=p: rebuild(p))[0] for p in postgres}
        print(
            f"  rebuild of every view in one pass: {full:,.0f}/s; one view at a time: "
            + ", ".join(f"{v} {r:,.0f}/s" for v, r in per_view.items())
        )
        print("audit: state at version 9,999 of 10,000 ...", flush=True)
        state_ms, fold_ms = past_state_ms(trawl, 10_000)
    if verified != events:
        raise RuntimeError(f"verify walked {verified} of {events} events")
    print("audit: the chain's cost on the command path ...", flush=True)
    cost = chain_cost(url, 3.0 if quick else 8.0, 1 if quick else 2)
    (with_chain, cpu_with), (without, cpu_without) = cost[True], cost[False]
    cpu_cost = cpu_with / cpu_without - 1
    views = len(postgres)
    return [
        Figure("audit", "verify (stream + SHA-256 chain)", verify, "plain select, no hashing",
               plain, "events/s", target=f">= {VERIFY_TARGET:,} events/s",
               passed=verify >= VERIFY_TARGET, command=command, details={"events": events}),
        Figure("audit", f"full rebuild ({views} views, blue/green)", full, "select+decode", decode,
               "events/s", target=f">= {REBUILD_TARGET:,} events/s",
               passed=full >= REBUILD_TARGET, command=command,
               details={"events_per_s_per_view": per_view}),
        Figure("audit", "state at version 9,999 (snapshots)", state_ms,
               "fold of 9,999 events, no snapshots", fold_ms, "ms",
               target=f"<= {STATE_TARGET_MS:.0f} ms", passed=state_ms <= STATE_TARGET_MS,
               command=command),
        Figure("audit", "CPU per command with the chain (x16 threads)", cpu_with,
               "same recorder without the chain", cpu_without, "ms",
               target=f"cost <= {CHAIN_COST_TARGET:.0%}", passed=cpu_cost <= CHAIN_COST_TARGET,
               command=command, details={"cost": cpu_cost}),
        Figure("audit", "commands/s with the chain (x16 threads)", with_chain,
               "same recorder without the chain", without, "req/s", command=command,
               details={"cost": 1 - with_chain / without}),
    ]  # fmt: skip
