"""Administration: rebuild or check views, roles, forgetting people, blobs, settings."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from domain.common import Context
from infrastructure.lancedb.projector import SearchProjector
from infrastructure.lancedb.rebuild import rebuild_search
from infrastructure.postgres.rebuild import rebuild_all
from infrastructure.settings import reference_markdown
from interfaces.cli.progress import bar
from interfaces.cli.runtime import add_data_dir, settings_from, trawl


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "rebuild",
        help="rebuild read models from the whole log (blue/green, queries keep working)",
        description="Replay the log into fresh tables and swap them in. Without --view "
        "every view is rebuilt.",
    )
    parser.add_argument("--view", action="append", metavar="NAME", help="a view to rebuild")
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild aside and compare with the live stores row by row; swap nothing",
    )
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
    forget = users.add_parser(
        "forget",
        help="forget a person: their key is deleted, their personal data reads as erased",
        description="Record a Forgotten event (actor system:cli) and delete the person's key.",
    )
    forget.add_argument("account", metavar="EMAIL|ID")
    add_data_dir(forget)
    forget.set_defaults(handler=run_forget)

    blobs = commands.add_parser("blobs", help="blob storage").add_subparsers(
        dest="blobs_command", required=True, metavar="COMMAND"
    )
    sweep = blobs.add_parser(
        "sweep",
        help="delete blobs no live URL version references (after TRAWL_BLOB_RETENTION_SECONDS)",
        description="Delete every blob whose URLs were all removed, or whose projects were "
        "deleted, longer ago than the retention period. `trawl serve` and `trawl projector` "
        "also do this every hour.",
    )
    add_data_dir(sweep)
    sweep.set_defaults(handler=run_sweep)

    show = commands.add_parser(
        "settings", help="list the TRAWL_* settings", description="List every TRAWL_* setting."
    )
    show.add_argument("--markdown", action="store_true", help="print the reference table")
    show.set_defaults(handler=run_settings)


def run_rebuild(args: argparse.Namespace) -> int:
    if args.check:
        return run_rebuild_check(args)
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
        searches = [known[name] for name in wanted if isinstance(known[name], SearchProjector)]
        views = [known[name] for name in wanted if not isinstance(known[name], SearchProjector)]
        if views:
            label = ", ".join(view.view for view in views)
            with bar(f"rebuild {label}", app.store.head()) as advance:
                # One pass over the log feeds every wanted view (each event decoded once).
                count = rebuild_all(views, lambda done, _: advance(done, done))
            print(f"rebuilt {label}: {count} events read, swapped in", flush=True)
        for search in searches:
            with bar(f"rebuild {search.view}", app.store.head()) as advance:
                # Measured in log positions: the search topics are a fraction
                # of the events, so their count would stop the bar short.
                count = rebuild_search(search, lambda _, position: advance(0, position))
            print(f"rebuilt {search.view}: {count} events read, swapped in", flush=True)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        deleted = app.sweep_blobs()
    print(f"deleted {deleted} blobs (retention {settings.blob_retention_seconds} s)")
    return 0


def run_rebuild_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        checks = [
            c
            for c in app.rebuild_checks
            if not args.view or c.name.removeprefix("view ") in args.view
        ]
        findings = []
        for check in checks:
            with bar(f"check {check.name}", app.store.head()) as advance:
                findings.append(check.run(advance))
    for finding in findings:
        print(f"[{'ok' if finding.ok else 'DIFFERS'}] {finding.check}: {finding.summary}")
        for detail in finding.details:
            print(f"    {detail}")
    return 0 if all(f.ok for f in findings) else 1


def run_forget(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with trawl(settings, projectors=False) as app:
        result = app.users.forget(Context.system("cli"), args.account)
    print(f"forgotten: {result.id} (version {result.version}, position {result.position})")
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
        if name in ("jwt_secret", "smtp_url", "database_url", "audit_signing_key") and value:
            value = "(set)"
        print(f"TRAWL_{name.upper()}={'' if value is None else value}")
    return 0
