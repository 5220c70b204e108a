"""Diagnostic: CPU per command of each thread of `trawl serve` under load.

    python -m bench.threads [--duration 8] [--clients 16]

Not part of `python -m bench`: it needs py-spy (`pip install py-spy`, or
$PY_SPY) to name the threads (Python 3.11 does not name OS threads), and
reads their CPU time from /proc/<pid>/task/<tid>/stat around a measured
window. Prints milliseconds of CPU per answered command by thread name
(numbered threads grouped), e.g. the event loop, the handler threads, the
group committer and each projector.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess

from bench import cpu, databases, load
from bench.servers import trawl_server


def thread_cpu(pid: int) -> dict[int, float]:
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        seconds = cpu.seconds(int(tid), f"/proc/{pid}/task/{tid}/stat")
        if seconds is not None:
            found[int(tid)] = seconds
    return found


def thread_names(pid: int) -> dict[int, str]:
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is needed to name threads: pip install py-spy, or set $PY_SPY")
    argv = [spy, "dump", "--pid", str(pid)]
    dump = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return {int(tid): name for tid, name in re.findall(r'Thread (\d+) \([^)]*\): "([^"]*)"', dump)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    tool = load.pick_tool(args.load)
    with (
        databases.postgres_server() as server,
        databases.fresh_database(server) as url,
        trawl_server(url) as side,
    ):
        pid = side.pids[0]
        load.run(side.load, args.clients, 2.0, 0, tool)  # warm up, start every thread
        before = thread_cpu(pid)
        result = load.run(side.load, args.clients, args.duration, 0, tool)
        after = thread_cpu(pid)
        names = thread_names(pid)
    per_name: collections.Counter[str] = collections.Counter()
    for tid, seconds in after.items():
        name = re.sub(r"[-_ ]?\d+$", "", names.get(tid, "?"))
        per_name[name] += seconds - before.get(tid, 0.0)
    print(f"trawl serve: {result.rate:,.0f} commands/s, {args.clients} clients, {tool}")
    for name, seconds in per_name.most_common():
        if seconds < 0.001 * result.requests / 1000:
            continue  # idle threads
        print(f"  {name:28} {seconds / result.requests * 1000:6.3f} ms CPU per command")
    total = sum(per_name.values()) / result.requests * 1000
    print(f"  {'total':28} {total:6.3f} ms CPU per command")


if __name__ == "__main__":
    main()
