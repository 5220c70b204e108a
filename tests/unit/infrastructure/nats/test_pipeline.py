"""The pipeline's rules, against a scripted stream: order, contiguity, resync."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from nats.js.api import PubAck
from nats.js.errors import APIError

from infrastructure.nats.messages import Message
from infrastructure.nats.pipeline import Pipeline, Resync

pytestmark = pytest.mark.unit

Answer = Callable[[int, int], PubAck | Exception | None]  # (position, expected) -> ack


def message(position: int) -> Message:
    return Message(position, "t.project.created", {}, b"{}")


def run(
    answer: Answer, positions: list[int], *, ack_timeout: float = 1.0
) -> tuple[Pipeline, list[tuple[int, int]]]:
    """Send `positions` through a pipeline whose acks `answer` scripts, then settle;
    the pipeline and what was sent: (position, expected last sequence)."""
    sent: list[tuple[int, int]] = []

    async def scenario() -> Pipeline:
        async def publish(msg: Message, expected: int) -> asyncio.Future[PubAck]:
            sent.append((msg.position, expected))
            future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
            result = answer(msg.position, expected)
            if isinstance(result, Exception):
                future.set_exception(result)
            elif result is not None:
                future.set_result(result)
            return future  # None: the ack never comes

        pipeline = Pipeline(
            publish, last_seq=10, position=100, max_in_flight=3, ack_timeout=ack_timeout
        )
        for position in positions:
            await pipeline.send(message(position))
        await pipeline.settle_all()
        return pipeline

    return asyncio.run(scenario()), sent


def in_order(position: int, expected: int) -> PubAck:
    return PubAck(stream="T", seq=expected + 1)


def test_each_message_expects_the_sequence_of_the_one_before() -> None:
    pipeline, sent = run(in_order, [101, 105, 106, 110])
    assert sent == [(101, 10), (105, 11), (106, 12), (110, 13)]
    assert pipeline.acked == 110
    assert pipeline.last_seq == 14


def test_a_deduplicated_retry_with_the_expected_sequence_is_accepted() -> None:
    def duplicate_once(position: int, expected: int) -> PubAck:
        return PubAck(stream="T", seq=expected + 1, duplicate=position == 105 or None)

    pipeline, _ = run(duplicate_once, [101, 105, 106])
    assert pipeline.acked == 106
    assert pipeline.duplicates == 1


def test_a_refused_message_stops_the_position_before_it() -> None:
    def refuse_105(position: int, expected: int) -> PubAck | Exception:
        if position == 105:
            return APIError(code=400, err_code=10071, description="wrong last sequence")
        return in_order(position, expected)

    with pytest.raises(Resync, match="refused position 105"):
        run(refuse_105, [101, 105, 106])


def test_an_unexpected_sequence_is_a_resync() -> None:
    with pytest.raises(Resync, match="expected 11"):
        run(lambda p, e: PubAck(stream="T", seq=99), [101])


def test_an_ack_that_never_comes_is_a_resync_after_the_timeout() -> None:
    def lose_106(position: int, expected: int) -> PubAck | None:
        return None if position == 106 else in_order(position, expected)

    with pytest.raises(Resync, match="no ack for position 106"):
        run(lose_106, [101, 105, 106, 107], ack_timeout=0.05)


def test_the_position_advances_only_over_contiguous_acks() -> None:
    async def scenario() -> tuple[int, int]:
        futures: list[asyncio.Future[PubAck]] = []

        async def publish(msg: Message, expected: int) -> asyncio.Future[PubAck]:
            futures.append(asyncio.get_running_loop().create_future())
            return futures[-1]

        pipeline = Pipeline(publish, last_seq=0, position=0)
        for position in (1, 2, 3):
            await pipeline.send(message(position))
        futures[1].set_result(PubAck(stream="T", seq=2))
        futures[2].set_result(PubAck(stream="T", seq=3))
        pipeline.settle_ready()
        before = pipeline.acked  # 2 and 3 are in, 1 is not
        futures[0].set_result(PubAck(stream="T", seq=1))
        pipeline.settle_ready()
        return before, pipeline.acked

    assert asyncio.run(scenario()) == (0, 3)
