"""CPU time of processes, from /proc: where a request's cost is spent.

Throughput on a shared 2-core machine moves with whatever else runs; CPU
seconds per request of the server process, and of the Postgres backends
serving the bench database, stay comparable. Figures are None where /proc
or the backends cannot be read (a remote Postgres).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

TICK = os.sysconf("SC_CLK_TCK")


def seconds(pid: int, path: str | None = None) -> float | None:
    """User + system CPU seconds of `pid` (all its threads) so far, or of a task's `path`."""
    try:
        with open(path or f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def backends(url: str) -> list[int]:
    """Pids of the Postgres backends connected to the database `url` names."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(row[0]) for row in rows]


@dataclass
class Meter:
    """CPU seconds used by some processes and the database's backends over a window."""

    pids: Sequence[int]
    url: str
    _start: tuple[float | None, dict[int, float | None]] = (None, {})

    def start(self) -> None:
        pids = backends(self.url)
        self._start = (_sum(self.pids), {p: seconds(p) for p in pids})

    def stop(self) -> tuple[float | None, float | None]:
        """(server CPU s, Postgres backends CPU s) since start()."""
        server0, db0 = self._start
        server1 = _sum(self.pids)
        server = server1 - server0 if server0 is not None and server1 is not None else None
        return server, _delta(db0)


def _sum(pids: Sequence[int]) -> float | None:
    values = [seconds(p) for p in pids]
    return None if None in values else sum(v for v in values if v is not None)


def _delta(before: dict[int, float | None]) -> float | None:
    total, seen = 0.0, False
    for pid, start in before.items():
        end = seconds(pid)
        if start is not None and end is not None:
            total, seen = total + end - start, True
    return total if seen else None


def per_request_ms(cpu: float | None, requests: int) -> float | None:
    return cpu / requests * 1000 if cpu is not None and requests else None


def total(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def threads_by_name() -> dict[str, float]:
    """CPU seconds so far of this process's Python threads, by name (numbers dropped)."""
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        tid = thread.native_id
        spent = seconds(tid or 0, f"/proc/{os.getpid()}/task/{tid}/stat") if tid else None
        if spent is not None:
            name = re.sub(r"[-_ ]?\d+( \(.*\))?$", "", thread.name)
            found[name] = found.get(name, 0.0) + spent
    return found


def children(pid: int) -> list[int]:
    """Pids of `pid`'s child processes."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            continue
    return found
