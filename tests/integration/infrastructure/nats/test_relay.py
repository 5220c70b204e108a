"""The relay on real Postgres and a real NATS server: complete, ordered, exactly once."""

from __future__ import annotations

import threading

import pytest
from litestar.testing import TestClient

from infrastructure.nats.pipeline import jetstream_publisher
from infrastructure.nats.relay import RelayOptions, relay_for
from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl
from interfaces.http.app import create_app
from tests.integration.infrastructure.nats.helpers import (
    log_positions,
    read_stream,
    relaying,
    write_events,
)
from tests.support.waiting import eventually
from tests.unit.interfaces.http.api import Api, ListMailer

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


def test_the_relay_status_reports_lag_then_catches_up(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    relay = relay_for(trawl.store, url, nats_url, stream_spec, QUICK)
    with relaying(relay):
        eventually(lambda: trawl.relay_status() is not None, what="the relay's row")
    write_events(trawl, 50)
    behind = trawl.relay_status()
    assert behind is not None
    assert behind.lag_events == 100
    assert behind.lag_seconds > 0
    with relaying(relay):
        eventually(lambda: trawl.relay_status().lag_events == 0, what="the catch-up")  # type: ignore[union-attr]
    caught_up = trawl.relay_status()
    assert caught_up is not None
    assert caught_up.position == caught_up.head == log_positions(trawl)[-1]
    assert caught_up.lag_seconds == 0


def test_one_relay_is_active_the_standby_takes_over_when_it_stops(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    first = relay_for(trawl.store, url, nats_url, stream_spec, QUICK)
    second = relay_for(trawl.store, url, nats_url, stream_spec, QUICK)
    stop_first = threading.Event()
    running_first = threading.Thread(target=first.run, args=(stop_first,))
    running_first.start()
    try:
        eventually(first.active.is_set, what="the first relay to become active")
        with relaying(second):
            write_events(trawl, 200)
            eventually(lambda: first.published >= 400, what="the active relay to publish")
            assert not second.active.is_set()
            stop_first.set()
            running_first.join(timeout=30)
            eventually(second.active.is_set, what="the standby to take over")
            write_events(trawl, 200)
            eventually(lambda: second.published >= 400, what="the standby to publish")
    finally:
        stop_first.set()
        running_first.join(timeout=30)
    published = read_stream(nats_url, stream_spec)
    assert [m.position for m in published] == log_positions(trawl)


def test_the_relay_progress_is_served_in_projections_and_metrics(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    relay = relay_for(trawl.store, url, nats_url, stream_spec, QUICK)
    with relaying(relay):
        eventually(lambda: trawl.relay_status() is not None, what="the relay's row")
    with TestClient(create_app(trawl)) as client:
        auth = Api(client, ListMailer()).user()  # its events are not relayed: the relay stopped
        write_events(trawl, 5)
        body = client.get("/api/v1/system/projections", headers=auth).json()
        metrics = client.get("/metrics").text
    status = trawl.relay_status()
    assert status is not None and status.lag_events >= 10
    assert body["relay"]["lag_events"] == status.lag_events
    assert body["relay"]["lag_seconds"] > 0
    assert f"trawl_relay_lag_events {float(status.lag_events)}" in metrics
    assert "trawl_relay_lag_seconds" in metrics


def test_publish_async_acks_keep_the_same_guarantees(
    trawl: Trawl, url: str, nats_url: str, stream_spec: StreamSpec
) -> None:
    write_events(trawl, 1_000)
    relay = relay_for(trawl.store, url, nats_url, stream_spec, QUICK, jetstream_publisher)
    with relaying(relay):
        eventually(lambda: relay.published >= 2_000, timeout=60, what="2,000 events relayed")
    assert [m.position for m in read_stream(nats_url, stream_spec)] == log_positions(trawl)
