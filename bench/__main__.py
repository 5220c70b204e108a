"""`python -m bench [SECTION ...] [--quick]`: run the benchmarks, print one table.

Sections: `commands` (HTTP command path against a plain-CRUD baseline),
`projection` (read-side catch-up against raw select+decode), `access`
(what the authorization lookup adds to a query), `relay` (the NATS event
stream against raw publish_async, and its lag at 1k events/s), `extraction` (main-text
quality and speed against a full-page-text baseline, no database) and `audit`
(verify, full rebuild, past states, the hash chain's cost) and `ingestion`
(the corpus served on loopback, added -> all chunked, against in-process
extract+chunk) and `search` (retrieval quality, latency at `--chunks` rows
against numpy brute force, ANN recall, the vectorize step against raw
WordLlama); none named runs all. Each database section gets its own
fresh `trawl_bench_<hex>`
database, dropped at the end. Results also go to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from contextlib import nullcontext

from bench import databases, report

SECTIONS = (
    "commands",
    "projection",
    "access",
    "relay",
    "extraction",
    "ingestion",
    "audit",
    "search",
)
NO_DATABASE = frozenset({"extraction"})


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=" or ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="short run (about a minute)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--duration", type=float, help="seconds measured per server")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, help="measurements per server; 2 = ABBA order")
    parser.add_argument("--events", type=int, help="events in the projection log")
    parser.add_argument(
        "--chunks", type=int, help="rows of the search latency table (100k; 20k with --quick)"
    )
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk when installed (auto), or the Python one",
    )
    args = parser.parse_args(argv)
    for section in args.sections:
        if section not in SECTIONS:
            parser.error(f"unknown section {section!r}: choose from {', '.join(SECTIONS)}")
    args.sections = args.sections or list(SECTIONS)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.events = args.events or (20_000 if args.quick else 100_000)
    args.chunks = args.chunks or (20_000 if args.quick else 100_000)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    command = shlex.join(["pdm", "run", "bench", *argv])
    figures: list[report.Figure] = []
    started = time.time()
    needs_database = any(section not in NO_DATABASE for section in args.sections)
    with databases.postgres_server() if needs_database else nullcontext("") as server:
        meta = {
            "machine": report.machine(databases.server_version(server) if server else "-"),
            "argv": argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "load_average_at_start": report.load_average(),
        }
        if meta["load_average_at_start"] > 0.5:
            print(
                f"note: load average {meta['load_average_at_start']:.2f} at start: other work"
                " on this machine skews absolute figures (same-run ratios less so)",
                flush=True,
            )
        for section in args.sections:
            if section == "extraction":
                from bench import extraction

                figures += extraction.run(command)
                continue
            with databases.fresh_database(server) as url:
                if section == "search":
                    from bench import search, search_vectorize

                    figures += search.run(command, args.chunks, uniform=not args.quick)
                    figures += search_vectorize.run(url, command)
                elif section == "commands":
                    from bench import commands

                    figures += commands.run(url, args, command)
                elif section == "ingestion":
                    from bench import ingestion

                    figures += ingestion.run(url, command)
                elif section == "audit":
                    from bench import audit

                    figures += audit.run(url, args.events, args.quick, command)
                elif section == "relay":
                    from bench import relay

                    figures += relay.run(url, args, command)
                elif section == "projection":
                    from bench import projection

                    figures += projection.run(url, args.events, command)
                else:
                    from bench import access

                    figures += access.run(url, 2_000 if args.quick else 10_000, command)
    meta["seconds"] = round(time.time() - started, 1)
    meta["load_average_at_end"] = report.load_average()
    print()
    print(report.table(figures))
    print(f"\nsaved {report.save(figures, meta)}")
    return 0 if all(f.passed is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
