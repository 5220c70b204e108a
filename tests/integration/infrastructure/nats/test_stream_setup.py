"""The stream is created or updated at start; an incompatible one is a clear error."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import nats
import pytest
from nats.js.api import StreamConfig, StreamInfo

from infrastructure.nats.stream import IncompatibleStream, StreamSpec, ensure_stream
from tests.support.nats import delete_stream

pytestmark = pytest.mark.integration


def ensure(url: str, spec: StreamSpec, existing: StreamConfig | None = None) -> StreamInfo:
    async def run() -> StreamInfo:
        client = await nats.connect(url)
        try:
            js = client.jetstream()
            if existing is not None:
                await js.add_stream(existing)
            return await ensure_stream(js, spec)
        finally:
            await client.close()

    return asyncio.run(run())


def test_the_stream_is_created_with_file_storage_and_the_limits(
    nats_url: str, stream_spec: StreamSpec
) -> None:
    spec = replace(stream_spec, duplicate_window=30.0, max_msgs=1000)
    config = ensure(nats_url, spec).config
    assert config.subjects == [f"{spec.prefix}.>"]
    assert config.storage == "file"
    assert config.duplicate_window == 30.0
    assert config.max_msgs == 1000


def test_changed_limits_update_the_running_stream(nats_url: str, stream_spec: StreamSpec) -> None:
    ensure(nats_url, stream_spec)
    config = ensure(nats_url, replace(stream_spec, max_age=3600.0, duplicate_window=60.0)).config
    assert config.max_age == 3600.0
    assert config.duplicate_window == 60.0


def test_a_stream_of_the_same_name_on_other_subjects_is_refused(
    nats_url: str, stream_spec: StreamSpec
) -> None:
    foreign = StreamConfig(name=stream_spec.name, subjects=[f"{stream_spec.prefix}_orders.>"])
    with pytest.raises(IncompatibleStream, match="subjects"):
        ensure(nats_url, stream_spec, existing=foreign)


def test_subjects_taken_by_another_stream_are_a_clear_error(
    nats_url: str, stream_spec: StreamSpec
) -> None:
    squatter = StreamConfig(name=stream_spec.name + "_OTHER", subjects=stream_spec.subjects)
    try:
        with pytest.raises(IncompatibleStream, match="cannot create stream"):
            ensure(nats_url, stream_spec, existing=squatter)
    finally:
        delete_stream(nats_url, squatter.name or "")
