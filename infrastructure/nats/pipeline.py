"""Pipelined, ordered publishing with acks checked in order.

Each message is sent with `Nats-Expected-Last-Sequence` naming the stream
sequence of the message before it, so the stream stores it only right after
that one: if any publish fails (a lost connection, a rejected message), every
message after it is refused too, and nothing lands out of order. Acks are
checked oldest first; the position advances only over a contiguous run of
acked events. Any surprise (an error, a timeout, an unexpected sequence)
raises `Resync`: the relay drops what is in flight and starts again after
the stream's last message. A retried publish that had in fact been stored is
answered by the stream's deduplication (`Nats-Msg-Id`) with its original
sequence, which the pipeline accepts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import PubAck

from infrastructure.nats.messages import Message

EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"

# Sends one message expecting the stream's last sequence; returns its ack's future.
Publish = Callable[[Message, int], Awaitable["asyncio.Future[PubAck]"]]


class Resync(Exception):
    """The pipeline lost track of the stream: start again from the stream's last message."""


def jetstream_publisher(js: JetStreamContext) -> Publish:
    """`Publish` over nats-py's `publish_async` (acks arrive as futures)."""

    async def publish(message: Message, expected_last_seq: int) -> asyncio.Future[PubAck]:
        headers = dict(message.headers)
        headers[EXPECTED_LAST_SEQUENCE] = str(expected_last_seq)
        return await js.publish_async(message.subject, message.body, headers=headers)

    return publish


class Pipeline:
    """In-flight publishes of one relay incarnation, oldest first."""

    def __init__(
        self,
        publish: Publish,
        *,
        last_seq: int,
        position: int,
        max_in_flight: int = 2000,
        ack_timeout: float = 5.0,
    ) -> None:
        self.publish = publish
        self.last_seq = last_seq  # stream sequence of the last message sent
        self.sent = position  # log position of the last message sent
        self.acked = position  # highest position acked with all before it
        self.max_in_flight = max_in_flight
        self.ack_timeout = ack_timeout
        self.duplicates = 0  # retried publishes the stream deduplicated
        self.acks = 0
        self._in_flight: deque[tuple[int, int, asyncio.Future[PubAck]]] = deque()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def send(self, message: Message) -> None:
        while len(self._in_flight) >= self.max_in_flight:
            await self._settle_oldest()
        try:
            future = await self.publish(message, self.last_seq)
        except Exception as error:
            raise Resync(f"publishing position {message.position} failed: {error!r}") from error
        self.last_seq += 1
        self.sent = message.position
        self._in_flight.append((message.position, self.last_seq, future))

    def settle_ready(self) -> None:
        """Check the acks that have arrived, oldest first, without waiting."""
        while self._in_flight and self._in_flight[0][2].done():
            position, seq, future = self._in_flight.popleft()
            self._check(position, seq, future)

    async def settle_all(self) -> None:
        """Wait for every ack in flight."""
        while self._in_flight:
            await self._settle_oldest()

    def abandon(self) -> None:
        """Forget what is in flight (after a Resync): their futures are cancelled."""
        for _, _, future in self._in_flight:
            future.cancel()
        self._in_flight.clear()

    async def _settle_oldest(self) -> None:
        position, seq, future = self._in_flight[0]
        try:
            await asyncio.wait_for(asyncio.shield(future), self.ack_timeout)
        except TimeoutError:
            raise Resync(f"no ack for position {position} within {self.ack_timeout}s") from None
        except Exception:  # noqa: BLE001, S110 - _check reports the future's error
            pass
        self._in_flight.popleft()
        self._check(position, seq, future)

    def _check(self, position: int, seq: int, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            raise Resync(f"the publish of position {position} was cancelled")
        error = future.exception()
        if error is not None:
            raise Resync(f"the stream refused position {position}: {error!r}") from error
        ack: PubAck = future.result()
        if ack.seq != seq:
            raise Resync(f"position {position} got sequence {ack.seq}, expected {seq}")
        if ack.duplicate:
            self.duplicates += 1
        self.acks += 1
        self.acked = position
