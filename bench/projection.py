"""Section `projection`: the read side over a log of N events (default 100k).

Fills a fresh database with N/4 projects x 4 events (created, renamed,
archived, restored), written phase by phase so every projector batch touches
as many distinct rows as it has events (the harder case), then measures:

- log write: `TrawlStore.save` of 500 aggregates per transaction, against a
  raw `INSERT ... SELECT unnest(...)` of the very same stored rows into a
  plain copy of the events table (what the recorder adds: mapping, locking);
- projector catch-up from position 0 into the projects view, against the
  raw rate of selecting the same notifications (`select_notifications`, pages
  of the projector's batch size) and decoding them (`mapper.to_domain_event`);
- `rebuild()` of the view over the same log, against the same baseline.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench import cpu
from bench.report import Figure
from domain.common import Context
from domain.projects.aggregate import Project
from infrastructure.postgres import projects_view
from infrastructure.postgres.rebuild import rebuild
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap

SAVE_CHUNK = 500  # aggregates per transaction while filling the log
TARGET_EVENTS_PER_S = 30_000


@contextmanager
def trawl_on(url: str) -> Iterator[Trawl]:
    """Trawl wired on `url` the way `trawl serve` wires it, without background threads."""
    with tempfile.TemporaryDirectory(prefix="trawl-bench-") as data_dir:
        settings = Settings(data_dir=data_dir, database_url=url, projector=False)
        trawl = bootstrap(settings, url, run_projectors=False)
        try:
            yield trawl
        finally:
            trawl.close()


@dataclass(frozen=True)
class Timing:
    """Events handled, wall seconds, and CPU seconds (this process; Postgres backends)."""

    events: int
    seconds: float
    python_cpu: float | None
    postgres_cpu: float | None

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def details(self) -> dict[str, float | None]:
        """Wall time and CPU microseconds per event (steady under other load)."""
        return {
            "seconds": self.seconds,
            "python_cpu_us_per_event": _per_event(self.python_cpu, self.events),
            "postgres_cpu_us_per_event": _per_event(self.postgres_cpu, self.events),
        }


def _per_event(cpu_seconds: float | None, events: int) -> float | None:
    return cpu_seconds / events * 1e6 if cpu_seconds is not None and events else None


def timed(url: str, work: Callable[[], int]) -> Timing:
    meter = cpu.Meter([os.getpid()], url)
    meter.start()
    started = time.perf_counter()
    count = work()
    seconds = time.perf_counter() - started
    python_cpu, postgres_cpu = meter.stop()
    return Timing(count, seconds, python_cpu, postgres_cpu)


def fill_log(trawl: Trawl, events: int) -> tuple[int, float]:
    """Write `events` project events in phases: (events written, seconds in save())."""
    ctx = Context.system("bench")
    projects = [
        Project.create(ctx, uuid.uuid4(), uuid.uuid4(), f"project {i}", "benchmark project")
        for i in range(events // 4)
    ]
    phases: list[Callable[[Project], object]] = [
        lambda p: None,  # the Created event is already pending
        lambda p: p.rename(ctx, f"renamed {p.id.hex[:8]}"),
        lambda p: p.archive(ctx),
        lambda p: p.restore(ctx),
    ]
    written, seconds = 0, 0.0
    for phase in phases:
        for start in range(0, len(projects), SAVE_CHUNK):
            chunk = projects[start : start + SAVE_CHUNK]
            for project in chunk:
                phase(project)
            began = time.perf_counter()
            written += len(trawl.store.save(*chunk))
            seconds += time.perf_counter() - began
    return written, seconds


def raw_insert(trawl: Trawl, batch: int) -> tuple[int, float]:
    """Copy the log's rows into a plain twin table, `batch` rows per transaction.

    Returns the rows copied and the seconds the inserts took (reading the rows
    out first is not timed).
    """
    datastore = trawl.store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as curs:
        curs.execute("DROP TABLE IF EXISTS bench_raw_events")
        curs.execute("CREATE TABLE bench_raw_events (LIKE trawl_events INCLUDING ALL)")
        curs.execute("ALTER TABLE bench_raw_events ALTER notification_id DROP DEFAULT")
        curs.execute("SELECT originator_id, originator_version, topic, state FROM trawl_events")
        rows = [tuple(r.values()) for r in curs.fetchall()]
    started = time.perf_counter()
    position = 0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        columns = [list(c) for c in zip(*chunk, strict=True)]
        with datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO bench_raw_events"
                " (originator_id, originator_version, topic, state, notification_id)"
                " SELECT u.i, u.v, u.t, u.s, %s + u.n FROM unnest(%s::uuid[], %s::int[],"
                " %s::text[], %s::bytea[]) WITH ORDINALITY AS u(i, v, t, s, n)",
                [position, *columns],
            )
        position += len(chunk)
    return len(rows), time.perf_counter() - started


def select_and_decode(trawl: Trawl, batch: int) -> int:
    """The floor under any projector: read every notification and decode it."""
    recorder, mapper = trawl.store.recorder, trawl.store.mapper
    count, start = 0, 0
    while page := recorder.select_notifications(start, batch, inclusive_of_start=False):
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id
    return count


def view_rows(trawl: Trawl) -> int:
    datastore = trawl.store.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as curs:
        curs.execute("SELECT count(*) AS n FROM projects WHERE status = 'active'")
        row = curs.fetchone()
    return int(row["n"]) if row else 0


def run(url: str, events: int, command: str) -> list[Figure]:
    with trawl_on(url) as trawl:
        projector = next(p for p in trawl.projectors if p.view == projects_view.SCHEMA.name)
        batch = projector.batch_size
        print(f"projection: writing {events:,} events ...", flush=True)
        written, write_s = fill_log(trawl, events)
        copied, raw_s = raw_insert(trawl, SAVE_CHUNK)
        print("projection: select+decode baseline, catch-up, rebuild ...", flush=True)
        base = timed(url, lambda: select_and_decode(trawl, batch))
        catch_up = timed(url, projector.catch_up)
        rebuilt = timed(url, lambda: rebuild(projector))
        active = view_rows(trawl)
    counts = (written, base.events, catch_up.events, rebuilt.events)
    if set(counts) != {events} or active != events // 4:
        raise RuntimeError(f"inconsistent run: events {counts}, {active} active rows")
    for name, timing in (("select+decode", base), ("catch-up", catch_up), ("rebuild", rebuilt)):
        d = timing.details()
        print(
            f"  {name}: {timing.rate:,.0f} events/s; CPU per event: Python"
            f" {d['python_cpu_us_per_event'] or 0:.0f} us, Postgres"
            f" {d['postgres_cpu_us_per_event'] or 0:.0f} us",
            flush=True,
        )
    common = {"events": events, "batch_size": batch, "select_and_decode": base.details()}
    return [
        Figure("projection", f"log write, store.save x{SAVE_CHUNK} aggregates",
               written / write_s, "raw INSERT of the same rows", copied / raw_s, "events/s",
               command=command, details={**common, "seconds": write_s, "baseline_seconds": raw_s}),
        Figure("projection", "projector catch-up from 0", catch_up.rate, "select+decode",
               base.rate, "events/s", target=f">= {TARGET_EVENTS_PER_S:,} events/s",
               passed=catch_up.rate >= TARGET_EVENTS_PER_S, command=command,
               details={**common, **catch_up.details()}),
        Figure("projection", "rebuild() into fresh tables + swap", rebuilt.rate, "select+decode",
               base.rate, "events/s", command=command, details={**common, **rebuilt.details()}),
    ]  # fmt: skip
