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
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import PubAck
from nats.js.errors import APIError, NoStreamResponseError

from infrastructure.nats.messages import Message

EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"

# Sends one message expecting the stream's last sequence; returns its ack's future.
Publish = Callable[[Message, int], Awaitable["asyncio.Future[PubAck]"]]
# Makes the Publish of one connection.
Publisher = Callable[[Client], Publish]


class Resync(Exception):
    """The pipeline lost track of the stream: start again from the stream's last message."""


def jetstream_publisher(client: Client) -> Publish:
    """`Publish` over nats-py's `publish_async` (the benchmark's baseline)."""
    js = client.jetstream(publish_async_max_pending=1_000_000)  # the Pipeline bounds it

    async def publish(message: Message, expected_last_seq: int) -> asyncio.Future[PubAck]:
        headers = dict(message.headers)
        headers[EXPECTED_LAST_SEQUENCE] = str(expected_last_seq)
        return await js.publish_async(message.subject, message.body, headers=headers)

    return publish


class _Ack(msgspec.Struct):
    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    error: dict[str, Any] | None = None


_decode_ack = msgspec.json.Decoder(_Ack).decode


def inbox_publisher(client: Client) -> Publish:
    """`Publish` with acks on one inbox subscription of our own (the relay's default).

    The same protocol as `publish_async` (a JetStream publish is a core
    publish with a reply subject; the ack comes back there), minus its
    per-message costs: reply tokens are a counter, not random bytes, and
    acks are decoded by msgspec into the futures directly.
    """
    prefix = client.new_inbox()
    waiting: dict[str, asyncio.Future[PubAck]] = {}
    counter = itertools.count()
    subscribed: list[object] = []

    async def on_ack(msg: Msg) -> None:
        future = waiting.pop(msg.subject[len(prefix) + 1 :], None)
        if future is None or future.done():
            return  # abandoned after a resync
        if not msg.data:  # a status message: no stream answered
            future.set_exception(NoStreamResponseError())
            return
        ack = _decode_ack(msg.data)
        if ack.error is not None:
            future.set_exception(
                APIError(
                    code=ack.error.get("code"),
                    err_code=ack.error.get("err_code"),
                    description=ack.error.get("description"),
                )
            )
        else:
            future.set_result(PubAck(stream=ack.stream, seq=ack.seq, duplicate=ack.duplicate))

    async def publish(message: Message, expected_last_seq: int) -> asyncio.Future[PubAck]:
        if not subscribed:
            subscribed.append(await client.subscribe(prefix + ".*", cb=on_ack))
        token = str(next(counter))
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        waiting[token] = future
        headers = dict(message.headers)
        headers[EXPECTED_LAST_SEQUENCE] = str(expected_last_seq)
        await client.publish(message.subject, message.body, f"{prefix}.{token}", headers)
        return future

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
        if len(self._in_flight) >= self.max_in_flight:
            self.settle_ready()  # cheap: no waiting while acks are already there
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
        if not future.done():
            done, _ = await asyncio.wait((future,), timeout=self.ack_timeout)
            if not done:
                raise Resync(f"no ack for position {position} within {self.ack_timeout}s")
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
