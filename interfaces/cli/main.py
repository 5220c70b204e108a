"""`trawl`: the command line. `trawl --help` lists every command.

Every command reads its settings from `TRAWL_*` variables (see
`trawl settings`); options given on the command line win.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from interfaces.cli import admin, audit, events, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trawl",
        description="Trawl: an event-sourced backend for web knowledge bases.",
        epilog="Settings come from TRAWL_* environment variables: `trawl settings` lists them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.register(commands)
    admin.register(commands)
    audit.register(commands)
    events.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
