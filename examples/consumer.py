"""A downstream service consuming Trawl's event stream: durable, idempotent, resumable.

    python examples/consumer.py --durable search-indexer                  # from the start
    python examples/consumer.py --durable audit-copy --from-position 1200 # from a log position
    python examples/consumer.py --durable late --since 2026-11-26T10:00:00+00:00
    python examples/consumer.py --durable urls --subject url.fetched --subject 'url.fetch_*'

- Durable pull consumer: the server remembers what this consumer acked, so a
  restart continues where it stopped (--from-position / --since only apply
  when the durable is created).
- Idempotent: each event's id (`Nats-Msg-Id`) is recorded in the same SQLite
  transaction as the processing's own writes; a redelivered event (after a
  crash between commit and ack) is recognised and only acked again.
- In order: one consumer, acks explicit, one message at a time in stream
  order, which is Trawl's log order (`Trawl-Position` increases).

Needs only nats-py. Settings: --url (default $TRAWL_NATS_URL or
nats://127.0.0.1:4222), --stream (TRAWL), --prefix (trawl).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
from datetime import datetime
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError


class Processed:
    """What this service has done: a tiny SQLite database with the ids it processed."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, position INTEGER)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS counts (subject TEXT PRIMARY KEY, n INTEGER)")
        self.db.commit()

    def handle(self, msg: Msg) -> bool:
        """Process one event exactly once; False when it had been processed already."""
        headers = msg.headers or {}
        event_id, position = headers["Nats-Msg-Id"], int(headers["Trawl-Position"])
        with self.db:  # one transaction: the processing and the id, or neither
            try:
                self.db.execute("INSERT INTO processed VALUES (?, ?)", (event_id, position))
            except sqlite3.IntegrityError:
                return False  # a redelivery: done before, just ack it again
            process(self.db, msg.subject, headers, json.loads(msg.data))
        return True

    def last_position(self) -> int:
        row = self.db.execute("SELECT max(position) FROM processed").fetchone()
        return int(row[0] or 0)


def process(
    db: sqlite3.Connection, subject: str, headers: dict[str, str], body: dict[str, Any]
) -> None:
    """The service's own work (here: count events per subject). Personal fields arrive
    sealed ({"enc", "subject"}): a downstream service never sees plaintext."""
    db.execute(
        "INSERT INTO counts VALUES (?, 1) ON CONFLICT (subject) DO UPDATE SET n = n + 1", (subject,)
    )
    version = headers["Trawl-Schema-Version"]
    print(
        f"{headers['Trawl-Position']:>8} {subject} v{version} {body['originator_id']}", flush=True
    )


async def start_sequence(
    js: JetStreamContext, stream: str, prefix: str, position: int
) -> int | None:
    """First stream sequence holding a log position >= `position` (binary search)."""
    state = (await js.stream_info(stream)).state
    low, high, found = state.first_seq, state.last_seq, None
    while low <= high:
        middle = (low + high) // 2
        try:
            msg = await js.get_msg(stream, middle, subject=f"{prefix}.>", next=True)
        except NotFoundError:
            high = middle - 1
            continue
        if int((msg.headers or {})["Trawl-Position"]) >= position:
            found, high = msg.seq, middle - 1
        else:
            low = (msg.seq or middle) + 1
    return found


async def consumer_config(js: JetStreamContext, args: argparse.Namespace) -> ConsumerConfig:
    subjects = [
        s if s.startswith(args.prefix + ".") else f"{args.prefix}.{s}" for s in args.subject
    ]
    config = ConsumerConfig(
        durable_name=args.durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=30,
        max_ack_pending=1,  # strictly one at a time: in-order processing
        deliver_policy=DeliverPolicy.ALL,
        filter_subjects=subjects or None,
    )
    if args.from_position is not None:
        seq = await start_sequence(js, args.stream, args.prefix, args.from_position)
        if seq is None:
            config.deliver_policy = DeliverPolicy.NEW
        else:
            config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, seq
    elif args.since is not None:
        config.deliver_policy = DeliverPolicy.BY_START_TIME
        config.opt_start_time = datetime.fromisoformat(args.since).isoformat()  # type: ignore[assignment]
    return config


async def consume(args: argparse.Namespace) -> Processed:
    processed = Processed(args.state)
    client = await nats.connect(args.url, max_reconnect_attempts=-1)
    try:
        js = client.jetstream()
        try:
            await js.consumer_info(args.stream, args.durable)  # exists: resume where it stopped
        except NotFoundError:
            await js.add_consumer(args.stream, await consumer_config(js, args))
        sub = await js.pull_subscribe_bind(args.durable, args.stream)
        while True:
            try:
                batch = await sub.fetch(1, timeout=args.idle_seconds)
            except TimeoutError:
                if args.exit_when_idle:
                    return processed
                continue
            for msg in batch:
                processed.handle(msg)
                await msg.ack_sync()  # after the commit: a crash in between means a redelivery
    finally:
        await client.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("TRAWL_NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--stream", default=os.environ.get("TRAWL_NATS_STREAM", "TRAWL"))
    parser.add_argument("--prefix", default=os.environ.get("TRAWL_NATS_SUBJECT_PREFIX", "trawl"))
    parser.add_argument(
        "--durable", required=True, help="consumer name: the server remembers its progress"
    )
    parser.add_argument("--state", default="consumer.sqlite3", help="SQLite file of processed ids")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--from-position", type=int, help="start at this log position (new durable only)"
    )
    start.add_argument(
        "--since", help="start at this time, ISO 8601 with offset (new durable only)"
    )
    parser.add_argument(
        "--subject", action="append", default=[], help="e.g. url.fetched (repeatable)"
    )
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--exit-when-idle", action="store_true", help="stop once nothing is left")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(consume(parse()))
