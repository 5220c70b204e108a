"""Administration: rebuild views, set roles, show settings."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from domain.common import Context
from infrastructure.lancedb.projector import SearchProjector
from infrastructure.lancedb.rebuild import rebuild_search
from infrastructure.postgres.rebuild import rebuild
from infrastructure.settings import reference_markdown
from interfaces.cli.runtime import add_data_dir, settings_from, trawl


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "rebuild",
        help="rebuild read models from the whole log (blue/green, queries keep working)",
        description="Replay the log into fresh tables and swap them in. Without --view "
        "every view is rebuilt.",
    )
    parser.add_argument("--view", action="append", metavar="NAME", help="a view to rebuild")
    add_data_dir(parser)
    parser.set_defaults(handler=run_rebuild)

    users = commands.add_parser("users", help="manage accounts").add_subparsers(
        dest="users_command", required=True, metavar="COMMAND"
    )
    set_role = users.add_parser(
        "set-role",
        help="give an account a role (user, auditor, admin); recorded as an event",
        description="Give an account a role. The change is an event (actor system:cli).",
    )
    set_role.add_argument("account", metavar="EMAIL|ID")
    set_role.add_argument("role", choices=("user", "auditor", "admin"))
    add_data_dir(set_role)
    set_role.set_defaults(handler=run_set_role)

    show = commands.add_parser(
        "settings", help="list the TRAWL_* settings", description="List every TRAWL_* setting."
    )
    show.add_argument("--markdown", action="store_true", help="print the reference table")
    show.set_defaults(handler=run_settings)


def run_rebuild(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        known = {p.view: p for p in app.projectors}
        wanted = args.view or list(known)
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            print(
                f"unknown view(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr
            )
            return 2
        for name in wanted:
            with Progress(
                TextColumn(f"rebuild {name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            ) as bar:
                task = bar.add_task(name, total=app.store.head() or 1)

                def report(done: int, total: int, task: Any = task, bar: Progress = bar) -> None:
                    bar.update(task, completed=done, total=total)

                chosen = known[name]
                if isinstance(chosen, SearchProjector):
                    count = rebuild_search(chosen, report)
                else:
                    count = rebuild(chosen, report)
            print(f"rebuilt {name}: {count} events read, swapped in", flush=True)
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        result = app.users.set_role(Context.system("cli"), args.account, args.role)
    print(
        f"{args.account}: role {args.role} (version {result.version}, position {result.position})"
    )
    return 0


def run_settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(reference_markdown())
        return 0
    from infrastructure.settings import Settings

    current = Settings.from_env()
    for name in current.__struct_fields__:
        value = getattr(current, name)
        if name in ("jwt_secret", "smtp_url", "database_url") and value:
            value = "(set)"
        print(f"TRAWL_{name.upper()}={'' if value is None else value}")
    return 0
