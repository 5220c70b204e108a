"""Section `commands`: the HTTP command path at N concurrent clients.

Servers on the same bench database, real processes served by uvicorn the
same way (1 worker, access log off; see bench/servers.py): `trawl serve`
(the figure the targets are about), `trawl api` + `trawl projector` (the
production split, for context) and the plain-CRUD baseline
(bench/baseline_app.py). The same load generator drives all (bench/load.py).
With `--rounds 2` the order is baseline, serve, split, split, serve,
baseline, so a drift of the disk's fsync speed or of other load during the run
favours none. Besides answers/s, p50 and p99: CPU milliseconds per command of
the server process(es) and of the Postgres backends (steady even when other
work shares the machine). For context, raw psycopg INSERT + COMMIT from N
threads, one connection each (rows/s).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench import cpu, load
from bench.report import Figure
from bench.servers import Side, baseline_server, trawl_server

TARGET_RATIO, TARGET_P99_MS = 1.0, 50.0


def raw_inserts(url: str, threads: int, duration: float) -> float:
    """Rows/s of INSERT + COMMIT from `threads` threads, one connection each."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_projects (id uuid PRIMARY KEY,"
            " owner_id uuid NOT NULL, name text NOT NULL, description text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def insert(index: int) -> None:
        owner = uuid.uuid4()
        with psycopg.connect(url) as conn:
            start.wait()
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO bench_raw_projects (id, owner_id, name, description)"
                    " VALUES (%s, %s, %s, %s)",
                    (uuid.uuid4(), owner, "Benchmark project", "made by python -m bench"),
                )
                conn.commit()
                counts[index] += 1

    workers = [threading.Thread(target=insert, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(duration)
    done = sum(counts)
    elapsed = time.perf_counter() - began
    stop.set()
    for worker in workers:
        worker.join()
    return done / elapsed


@dataclass
class Measured:
    """One side's rounds: load results and CPU spent (server, Postgres backends)."""

    results: list[load.Result] = field(default_factory=list)
    server_cpu: list[float | None] = field(default_factory=list)
    db_cpu: list[float | None] = field(default_factory=list)

    def merged(self) -> load.Result:
        """Rounds combined: total answers / total time; p50 averaged, p99 the worst round."""
        rs, requests = self.results, sum(r.requests for r in self.results)
        return load.Result(
            requests=requests,
            errors=sum(r.errors for r in rs),
            seconds=sum(r.seconds for r in rs),
            p50_ms=sum(r.p50_ms * r.requests for r in rs) / max(requests, 1),
            p99_ms=max(r.p99_ms for r in rs),
            tool=rs[0].tool,
        )

    def cpu_ms(self) -> tuple[float | None, float | None]:
        """CPU ms per answered request: (server process, Postgres backends)."""
        requests = sum(r.requests for r in self.results)
        return (
            cpu.per_request_ms(cpu.total(self.server_cpu), requests),
            cpu.per_request_ms(cpu.total(self.db_cpu), requests),
        )


def measure(side: Side, url: str, args: Any, tool: str, into: Measured) -> None:
    if args.warmup > 0:
        load.run(side.load, args.clients, args.warmup, 0, tool)
    meter = cpu.Meter(side.pids, url)
    meter.start()
    result = load.run(side.load, args.clients, args.duration, 0, tool)
    server_cpu, db_cpu = meter.stop()
    into.results.append(result)
    into.server_cpu.append(server_cpu)
    into.db_cpu.append(db_cpu)
    server_ms = cpu.per_request_ms(server_cpu, result.requests)
    db_ms = cpu.per_request_ms(db_cpu, result.requests)
    print(
        f"  {result.rate:,.0f}/s p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms,"
        f" errors {result.errors}; CPU/request: server {_ms(server_ms)}, Postgres {_ms(db_ms)}",
        flush=True,
    )


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} ms"


BASELINE = "plain-CRUD Litestar"
ORDER = ["baseline", "serve", "split", "split", "serve", "baseline"]  # drift cancels out


def run(url: str, args: Any, command: str) -> list[Figure]:
    tool = load.pick_tool(args.load)
    sides = {name: Measured() for name in ("serve", "split", "baseline")}
    with (
        baseline_server(url) as baseline,
        trawl_server(url) as serve,
        trawl_server(url, split=True) as split,
    ):
        servers = {"baseline": baseline, "serve": serve, "split": split}
        for name in (ORDER * args.rounds)[: 3 * args.rounds]:
            print(f"commands: {name}, {args.clients} clients, {tool} ...", flush=True)
            measure(servers[name], url, args, tool, sides[name])
    print(f"commands: raw INSERT+COMMIT, {args.clients} threads ...", flush=True)
    raw = raw_inserts(url, args.clients, args.duration)
    b = sides["baseline"].merged()
    details = {
        "clients": args.clients,
        "seconds_per_round": args.duration,
        "rounds": args.rounds,
        "load": tool,
        **{
            name: {
                "rounds": [vars(r) for r in m.results],
                "cpu_ms_per_request": dict(zip(("server", "postgres"), m.cpu_ms(), strict=True)),
            }
            for name, m in sides.items()
        },
    }
    x = f"x{args.clients}"
    figures = []
    for name, label in (("serve", "trawl serve"), ("split", "trawl api + projector")):
        t = sides[name].merged()
        if t.errors or b.errors:
            print(f"WARNING: error answers: {label} {t.errors}, baseline {b.errors}", flush=True)
        checked = name == "serve"  # the targets are set for `trawl serve`
        figures += [
            Figure("commands", f"{label}, POST /projects {x}: answers/s", t.rate, BASELINE, b.rate,
                   "req/s", target=f">= {TARGET_RATIO:.1f}x" if checked else "",
                   passed=t.rate >= TARGET_RATIO * b.rate if checked else None,
                   command=command, details=details),
            Figure("commands", f"{label}, POST /projects {x}: p50", t.p50_ms, BASELINE, b.p50_ms,
                   "ms", command=command),
            Figure("commands", f"{label}, POST /projects {x}: p99", t.p99_ms, BASELINE, b.p99_ms,
                   "ms", target=f"<= {TARGET_P99_MS:.0f} ms" if checked else "",
                   passed=t.p99_ms <= TARGET_P99_MS if checked else None, command=command),
        ]  # fmt: skip
        for index, what in enumerate(("server", "Postgres")):
            mine, theirs = sides[name].cpu_ms()[index], sides["baseline"].cpu_ms()[index]
            if mine is not None and theirs is not None:
                figures.append(Figure("commands", f"{label}: {what} CPU per command", mine,
                                      BASELINE, theirs, "ms", command=command))  # fmt: skip
    figures.append(Figure("commands", f"raw psycopg INSERT+COMMIT {x} threads", raw, BASELINE,
                          b.rate, "rows/s", command=command))  # fmt: skip
    return figures
