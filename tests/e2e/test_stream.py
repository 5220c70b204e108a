"""End to end: `trawl serve` runs an embedded NATS and relays every event to it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from infrastructure.nats.stream import StreamSpec
from tests.e2e.test_serve import _signed_in, server  # noqa: F401 - the fixture
from tests.integration.infrastructure.nats.helpers import read_stream
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

TRAWL = Path(sys.executable).with_name("trawl")


def test_serve_publishes_every_event_to_its_embedded_nats(server: tuple[str, Path]) -> None:  # noqa: F811
    base, data_dir = server
    nats_url = (data_dir / "nats" / "url").read_text().strip()
    assert nats_url.startswith("nats://127.0.0.1:")
    with httpx.Client(base_url=base, timeout=10) as client:
        auth = _signed_in(client, data_dir / "mail", "stream@example.org")
        created = client.post("/api/v1/projects", json={"name": "Streamed"}, headers=auth)
        assert created.status_code == 201, created.text
        position = created.json()["position"]

        def relayed() -> bool:
            body = client.get("/api/v1/system/projections", headers=auth).json()
            return body["relay"] is not None and body["relay"]["position"] >= position

        eventually(relayed, timeout=90, what="the relay to publish the project", pause=0.1)
        assert client.get("/asyncapi.json").json()["asyncapi"] == "3.0.0"
    published = read_stream(nats_url, StreamSpec())
    subjects = [m.subject for m in published]
    assert subjects[0] == "trawl.user.created"
    assert "trawl.project.created" in subjects
    assert b"stream@example.org" not in b"".join(m.body for m in published)
    positions = [m.position for m in published]
    assert positions == sorted(set(positions))


def test_events_tail_prints_events_from_a_position(server: tuple[str, Path]) -> None:  # noqa: F811
    base, data_dir = server
    with httpx.Client(base_url=base, timeout=10) as client:
        auth = _signed_in(client, data_dir / "mail", "tail@example.org")
        created = client.post("/api/v1/projects", json={"name": "Tailed"}, headers=auth)
        assert created.status_code == 201, created.text
    env = {**os.environ, "TRAWL_DATA_DIR": str(data_dir), "TRAWL_LOG_LEVEL": "WARNING"}
    tail = subprocess.Popen(
        [str(TRAWL), "events", "tail", "--from", "1", "--subject", "project.*"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.append(tail.stdout.readline() if tail.stdout else ""), daemon=True
    )
    reader.start()
    try:
        reader.join(timeout=90)
    finally:
        tail.kill()
        tail.wait(timeout=10)
    assert lines and " trawl.project.created " in lines[0], lines
    assert created.json()["id"] in lines[0]
