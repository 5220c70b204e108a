"""The event stream: `trawl relay` (publish the log) and `trawl events tail` (read it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from typing import Any

from nats.aio.msg import Msg

from infrastructure.embedded.nats import running_url
from infrastructure.nats import connection, messages
from infrastructure.nats.reading import follow, subject_filter
from interfaces.bootstrap import bootstrap, stream_spec
from interfaces.cli.runtime import add_data_dir, database, joined_nats, settings_from


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "relay",
        help="publish every event of the log to NATS JetStream, in order, exactly once",
        description="Follow the log and publish each event to <prefix>.<aggregate>.<event> until "
        "stopped (SIGINT/SIGTERM). One relay is active per database; extra copies wait as hot "
        "standbys. Needs TRAWL_NATS_URL (or the embedded server of a `trawl serve` on the same "
        "data directory).",
    )
    add_data_dir(parser)
    parser.set_defaults(handler=run_relay)

    events = commands.add_parser("events", help="read the event stream").add_subparsers(
        dest="events_command", required=True, metavar="COMMAND"
    )
    tail = events.add_parser(
        "tail",
        help="print events from the stream as they are published",
        description="Print one line per event: position, subject, event id, JSON body. "
        "Without --from only new events are printed.",
    )
    tail.add_argument(
        "--from", dest="start", type=int, metavar="POSITION", help="start at this log position"
    )
    tail.add_argument(
        "--subject",
        action="append",
        default=[],
        help="only these subjects, e.g. url.fetched, 'url.*', 'project.>' (repeatable)",
    )
    add_data_dir(tail)
    tail.set_defaults(handler=run_tail)


def run_relay(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not settings.relay_enabled:
        print("TRAWL_NATS_URL=off: the relay is disabled", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with database(settings) as url, joined_nats(settings) as nats_url:
        app = bootstrap(settings, url, run_projectors=False, nats_url=nats_url)
        try:
            relay = app.relay
            assert relay is not None
            print(f"Relay: stream {relay.spec.name}, subjects {relay.spec.prefix}.>", flush=True)
            relay.run(stop)
            if relay.error is not None:
                print(f"relay stopped: {relay.error}", file=sys.stderr)
                return 1
        finally:
            app.close()
    return 0


def run_tail(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    spec = stream_spec(settings)
    url = settings.nats_url or running_url(settings.data_path)
    if not settings.relay_enabled or url is None:
        print(
            "no event stream: set TRAWL_NATS_URL, or run `trawl serve` on this data directory",
            file=sys.stderr,
        )
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_tail(url, spec, args.start, args.subject))
    return 0


async def _tail(url: str, spec: Any, start: int | None, subjects: list[str]) -> None:
    wanted = subject_filter(spec.prefix, subjects)

    def show(msg: Msg) -> None:
        if wanted(msg.subject):
            headers = msg.headers or {}
            position = headers.get(messages.POSITION, "?")
            event_id = headers.get(messages.MSG_ID, "?")
            print(f"{position} {msg.subject} {event_id} {msg.data.decode()}", flush=True)

    client = await connection.connect(url, "trawl-events-tail")
    try:
        await follow(client.jetstream(), spec, show, from_position=start)
    finally:
        await client.close()
