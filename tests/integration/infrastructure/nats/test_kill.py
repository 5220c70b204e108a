"""`trawl relay` SIGKILLed at random moments: the stream still holds every event once, in order.

The default run kills it 3 times; the full form (20 kills) is marked heavy
and runs with `-m heavy` or TRAWL_TEST_HEAVY=1 (tests/conftest.py).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from infrastructure.nats.stream import StreamSpec
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.nats.helpers import log_positions, read_stream, write_events
from tests.integration.infrastructure.postgres.helpers import query
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

TRAWL = Path(sys.executable).with_name("trawl")


def relay_position(url: str) -> int:
    rows = query(url, "SELECT position FROM trawl_view_positions WHERE view = 'relay'")
    return int(rows[0]["position"]) if rows else -1


def start_relay(url: str, nats_url: str, spec: StreamSpec, data_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TRAWL_DATABASE_URL": url,
        "TRAWL_NATS_URL": nats_url,
        "TRAWL_NATS_STREAM": spec.name,
        "TRAWL_NATS_SUBJECT_PREFIX": spec.prefix,
        "TRAWL_DATA_DIR": str(data_dir),
        "TRAWL_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [str(TRAWL), "relay"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@contextmanager
def writing(trawl: Trawl) -> Iterator[None]:
    """About 2,000 events per second written in the background for the block."""
    stop = threading.Event()

    def write() -> None:
        while not stop.wait(0.05):
            write_events(trawl, 50)

    thread = threading.Thread(target=write, name="writer")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@pytest.mark.parametrize(
    "kills", [3, pytest.param(20, marks=pytest.mark.heavy, id="heavy")], ids=str
)
def test_relay_killed_at_random_moments_publishes_every_event_once_in_order(
    kills: int,
    trawl: Trawl,
    url: str,
    nats_url: str,
    stream_spec: StreamSpec,
    tmp_path: Path,
) -> None:
    rng = random.Random(os.environ.get("TRAWL_TEST_SEED", time.time_ns()))
    write_events(trawl, 1_000)
    with writing(trawl):  # commands keep coming while the relay dies and restarts
        for _ in range(kills):
            before = relay_position(url)
            process = start_relay(url, nats_url, stream_spec, tmp_path)
            try:
                # Kill it while it publishes: once it has moved, after a random moment.
                eventually(
                    lambda p=process, b=before: p.poll() is not None or relay_position(url) > b,
                    timeout=60,
                    what="the relay to start publishing",
                )
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(rng.uniform(0.0, 0.3))
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
    expected = log_positions(trawl)
    process = start_relay(url, nats_url, stream_spec, tmp_path)
    try:
        eventually(
            lambda: relay_position(url) == expected[-1], timeout=60, what="the final catch-up"
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    published = read_stream(nats_url, stream_spec)
    assert [m.position for m in published] == expected
