"""The one JetStream stream of Trawl's events: created or updated at start.

Settings own the limits (duplicate window, age, bytes, messages): a running
stream whose limits differ is updated to them. What cannot change in place,
or would change what the stream means (its subjects, file storage, the
`limits` retention that keeps messages for every consumer, being a mirror),
is refused with `IncompatibleStream`, never changed silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import APIError, NotFoundError, ServiceUnavailableError

from infrastructure.nats.subjects import DEFAULT_PREFIX, check_prefix

log = logging.getLogger(__name__)


class IncompatibleStream(Exception):
    """The stream exists with a shape the relay must not change by itself."""


@dataclass(frozen=True)
class StreamSpec:
    """Name, subject prefix and limits of the stream."""

    name: str = "TRAWL"
    prefix: str = DEFAULT_PREFIX
    duplicate_window: float = 120.0  # seconds
    max_age: float = 0.0  # seconds; 0 keeps messages forever
    max_bytes: int = -1  # -1 = unlimited
    max_msgs: int = -1  # -1 = unlimited

    def __post_init__(self) -> None:
        check_prefix(self.prefix)

    @property
    def subjects(self) -> list[str]:
        return [f"{self.prefix}.>"]

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description="Trawl's event log, one message per event, in log order.",
            subjects=self.subjects,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            duplicate_window=self.duplicate_window,
            max_age=self.max_age,
            max_bytes=self.max_bytes,
            max_msgs=self.max_msgs,
            num_replicas=1,
        )


def incompatibilities(spec: StreamSpec, found: StreamConfig) -> list[str]:
    """Why an existing stream cannot serve as Trawl's (empty: it can)."""
    problems = []
    if sorted(found.subjects or []) != spec.subjects:
        problems.append(f"subjects are {found.subjects}, expected {spec.subjects}")
    if found.storage not in (StorageType.FILE, "file"):
        problems.append(f"storage is {found.storage}, expected file")
    if found.retention not in (RetentionPolicy.LIMITS, "limits"):
        problems.append(f"retention is {found.retention}, expected limits")
    if found.mirror is not None or found.sources:
        problems.append("it is a mirror or has sources")
    if found.sealed:
        problems.append("it is sealed")
    return problems


def _limits(config: StreamConfig) -> tuple[float, float, int, int]:
    return (
        float(config.duplicate_window or 0),
        float(config.max_age or 0),
        int(config.max_bytes if config.max_bytes is not None else -1),
        int(config.max_msgs if config.max_msgs is not None else -1),
    )


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> StreamInfo:
    """Create the stream, or check and update the one there (IncompatibleStream)."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        log.info("creating stream %s on subjects %s", spec.name, spec.subjects)
        try:
            return await js.add_stream(spec.config())
        except ServiceUnavailableError:
            raise  # JetStream not ready yet: retried, not fatal
        except APIError as error:  # the server said no (e.g. subjects taken by another stream)
            raise IncompatibleStream(f"cannot create stream {spec.name}: {error!r}") from error
    problems = incompatibilities(spec, info.config)
    if problems:
        raise IncompatibleStream(
            f"stream {spec.name} exists but is not Trawl's: {'; '.join(problems)}."
            " Point TRAWL_NATS_STREAM / TRAWL_NATS_SUBJECT_PREFIX elsewhere or fix the stream."
        )
    if _limits(info.config) != _limits(spec.config()):
        log.warning("updating the limits of stream %s to the settings", spec.name)
        return await js.update_stream(spec.config())
    return info
