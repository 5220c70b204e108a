"""The relay on real Postgres and a real NATS server: complete, ordered, exactly once."""

from __future__ import annotations

import pytest

from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.nats.helpers import (
    log_positions,
    read_stream,
    relaying,
    write_events,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

QUICK = RelayOptions(idle_timeout=0.1, standby_interval=0.1)


def test_ten_thousand_events_arrive_once_each_in_log_order(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    write_events(trawl, 2_500)  # 5,000 before the relay starts
    relay = relay_for(trawl.store, url, nats_url, stream_spec, QUICK)
    with relaying(relay):
        write_events(trawl, 2_500)  # 5,000 while it runs
        expected = log_positions(trawl)
        assert len(expected) == 10_000
        eventually(lambda: relay.published >= 10_000, timeout=120, what="10k events relayed")
    published = read_stream(nats_url, stream_spec)
    assert [m.position for m in published] == expected
    assert [m.seq for m in published] == list(range(1, 10_001))
