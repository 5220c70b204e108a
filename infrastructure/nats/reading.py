"""Reading the stream back: where a log position starts, and following it.

Positions increase with stream sequences (the relay never reorders), so the
first message at or after a position is found by binary search over the
stream's sequences, a handful of direct reads however long the stream is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from infrastructure.nats import messages
from infrastructure.nats.stream import StreamSpec


async def start_sequence(js: JetStreamContext, spec: StreamSpec, position: int) -> int | None:
    """The sequence of the first message holding a position >= `position` (None: none yet)."""
    state = (await js.stream_info(spec.name)).state
    low, high, found = state.first_seq, state.last_seq, None
    while low <= high:
        middle = (low + high) // 2
        try:  # the next message from `middle` on: robust to deleted sequences
            msg = await js.get_msg(spec.name, middle, subject=spec.subjects[0], next=True)
        except NotFoundError:
            high = middle - 1
            continue
        at = messages.position_of(msg.headers) or 0
        if at >= position:
            found, high = msg.seq, middle - 1
        else:
            low = (msg.seq or middle) + 1
    return found


def subject_filter(prefix: str, subjects: Sequence[str]) -> Callable[[str], bool]:
    """A predicate over subjects; `url.fetched`, `url.*` or `trawl.url.>` all work."""
    patterns = [s if s.startswith(prefix + ".") else f"{prefix}.{s}" for s in subjects]

    def matches(subject: str) -> bool:
        return not patterns or any(_match(p.split("."), subject.split(".")) for p in patterns)

    return matches


def _match(pattern: list[str], tokens: list[str]) -> bool:
    for index, part in enumerate(pattern):
        if part == ">":
            return len(tokens) > index
        if index >= len(tokens) or (part not in ("*", tokens[index])):
            return False
    return len(tokens) == len(pattern)


async def follow(
    js: JetStreamContext,
    spec: StreamSpec,
    handle: Callable[[Msg], None],
    *,
    from_position: int | None = None,
    since: datetime | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Deliver messages (from a position, a time, or new ones only) until `stop`."""
    config = ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.NEW)
    if from_position is not None:
        seq = await start_sequence(js, spec, from_position)
        if seq is not None:
            config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, seq
    elif since is not None:
        config.deliver_policy = DeliverPolicy.BY_START_TIME
        config.opt_start_time = since.isoformat()  # type: ignore[assignment]

    async def deliver(msg: Msg) -> None:
        handle(msg)

    sub = await js.subscribe(
        spec.subjects[0], stream=spec.name, cb=deliver, ordered_consumer=True, config=config
    )
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
