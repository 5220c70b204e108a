"""Where publishing resumes: right after the stream's last message.

The stream is the truth: its last message's `Trawl-Position` header names
the last event it holds, whatever Postgres recorded (the relay records only
after acks, so Postgres may trail) and whatever the dedup window. Postgres's
position only serves a stream with no messages (new, or emptied by its
retention limits).
"""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from infrastructure.nats import messages
from infrastructure.nats.database import RelayDatabase
from infrastructure.nats.stream import IncompatibleStream, StreamSpec

log = logging.getLogger(__name__)


async def resume_point(
    js: JetStreamContext, db: RelayDatabase, spec: StreamSpec
) -> tuple[int, int]:
    """(log position, stream sequence) of the last event the stream holds; recorded in Postgres."""
    info = await js.stream_info(spec.name)
    recorded = await db.position()
    position = recorded
    if info.state.messages:
        found = await _last_position(js, spec, info.state.last_seq)
        position = recorded if found is None else found
    head = await db.head()
    if position > head:
        raise IncompatibleStream(
            f"stream {spec.name} holds log position {position}, beyond this database's"
            f" head {head}: it was filled from another database"
        )
    if position != recorded:
        log.info("relay position %s -> %s (the stream's last message)", recorded, position)
        await db.record(position)
    return position, info.state.last_seq


async def _last_position(js: JetStreamContext, spec: StreamSpec, seq: int) -> int | None:
    try:
        last = await js.get_msg(spec.name, seq)
    except NotFoundError:
        log.warning("stream %s: last message %s is gone; using Postgres", spec.name, seq)
        return None
    found = messages.position_of(last.headers)
    if found is None:
        raise IncompatibleStream(
            f"the last message of stream {spec.name} (sequence {seq}) has no"
            f" {messages.POSITION} header: something else publishes on {spec.subjects}"
        )
    return found
