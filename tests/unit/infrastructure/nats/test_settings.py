"""The NATS settings: off switch, validated names, the stream they describe."""

from __future__ import annotations

import msgspec
import pytest

from infrastructure.settings import Settings
from interfaces.bootstrap import stream_spec

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "enabled"), [(None, True), ("nats://x:4222", True), ("off", False)]
)
def test_the_relay_is_on_unless_the_url_says_off(url: str | None, enabled: bool) -> None:
    assert Settings(nats_url=url).relay_enabled is enabled


@pytest.mark.parametrize(
    ("name", "value"), [("NATS_SUBJECT_PREFIX", "a.*"), ("NATS_STREAM", "A.B")]
)
def test_wildcards_and_dots_are_refused_where_nats_forbids_them(name: str, value: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        Settings.from_env({f"TRAWL_{name}": value})


def test_the_stream_spec_follows_the_settings() -> None:
    settings = Settings.from_env(
        {
            "TRAWL_NATS_STREAM": "EVENTS",
            "TRAWL_NATS_SUBJECT_PREFIX": "acme.trawl",
            "TRAWL_NATS_DUPLICATE_WINDOW_SECONDS": "30",
            "TRAWL_NATS_MAX_BYTES": "0",
        }
    )
    spec = stream_spec(settings)
    assert (spec.name, spec.subjects, spec.duplicate_window) == ("EVENTS", ["acme.trawl.>"], 30.0)
    assert spec.max_bytes == -1  # 0 = unlimited
