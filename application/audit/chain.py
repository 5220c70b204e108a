"""The audit hash chain: every stored event linked to the one before it.

link_n = SHA-256(link_{n-1} || position || originator id || version ||
topic || state), over the event's stored bytes, in log order. Positions may
have holes (a rolled-back insert burns numbers), so a link names its
position and the previous link, not the previous position: a deleted row
breaks the link after it. The first link's predecessor is `GENESIS`.

Pure: the recorder (inside its insert transaction), `verify` walks, and the
offline export verifier all use `link()`.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

GENESIS = bytes(32)
_HEADER = struct.Struct(">qqI")  # position, version, topic length

Progress = Callable[[int, int], None]  # (events verified so far, last position)


def link(
    previous: bytes, position: int, originator_id: bytes, version: int, topic: str, state: bytes
) -> bytes:
    """The link of one stored event (`originator_id` as its 16 raw bytes)."""
    encoded = topic.encode()
    digest = hashlib.sha256(previous)
    digest.update(_HEADER.pack(position, version, len(encoded)))
    digest.update(originator_id)
    digest.update(encoded)
    digest.update(state)
    return digest.digest()


# One position of the walk, as a plain tuple (the hot loop makes no objects):
# (position, originator id bytes, version, topic, state, link). The event's
# fields or the link are None when that row is missing (deleted).
ChainRow = tuple[int, bytes | None, int | None, str | None, bytes | None, bytes | None]


@dataclass(frozen=True)
class VerifyResult:
    """What a walk found: `ok`, the last good position and link, the first bad one."""

    ok: bool
    verified: int
    last_position: int
    last_link: bytes
    first_bad_position: int | None = None
    reason: str | None = None


def walk(
    rows: Iterable[ChainRow],
    previous: bytes = GENESIS,
    after: int = 0,
    progress: Progress | None = None,
    every: int = 50_000,
) -> VerifyResult:
    """Recompute the chain over `rows` (in position order) from `previous`.

    Stops at the first position whose stored link differs from the
    recomputed one, or whose event or link row is missing.
    """
    count, good = 0, after
    for position, originator_id, version, topic, state, stored in rows:
        if stored is None:
            return _bad(count, good, previous, position, "the event has no link")
        if state is None or originator_id is None or topic is None:
            return _bad(count, good, previous, position, "the event is missing (deleted)")
        expected = link(previous, position, bytes(originator_id), version or 0, topic, state)
        if expected != stored:
            return _bad(count, good, previous, position, "the stored bytes do not match the link")
        previous, good = expected, position
        count += 1
        if progress is not None and count % every == 0:
            progress(count, good)
    if progress is not None:
        progress(count, good)
    return VerifyResult(True, count, good, previous)


def _bad(count: int, good: int, previous: bytes, position: int, reason: str) -> VerifyResult:
    return VerifyResult(False, count, good, previous, position, reason)
