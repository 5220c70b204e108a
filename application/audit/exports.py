"""Audit exports and checkpoints, as data: JSON Lines any auditor can check.

An export is a header line, then one line per event in position order:

    {"format": "trawl-audit-export/1", "from": 1, "to": 812, "previous_link": "<hex>"}
    {"position": 1, "originator_id": "<uuid>", "originator_version": 1,
     "topic": "trawl:user.created", "state": "<base64 of the stored bytes>", "link": "<hex>"}

`check_export()` recomputes every link from `previous_link` (pure: hashlib
only). A signed checkpoint names a position and the link the chain had
there; an export that contains that position with that link, and verifies,
proves its events are the ones the checkpoint was signed over.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.audit import chain

FORMAT = "trawl-audit-export/1"
CHECKPOINT_FORMAT = "trawl-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at a moment, signed with the audit key (Ed25519)."""

    position: int
    link: bytes
    signed_at: str
    public_key: bytes
    signature: bytes

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return message(self.position, self.link, self.signed_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "position": self.position,
            "link": self.link.hex(),
            "signed_at": self.signed_at,
            "public_key": self.public_key.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        if data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"not a {CHECKPOINT_FORMAT} document")
        return cls(
            position=int(data["position"]),
            link=bytes.fromhex(data["link"]),
            signed_at=str(data["signed_at"]),
            public_key=bytes.fromhex(data["public_key"]),
            signature=bytes.fromhex(data["signature"]),
        )


def message(position: int, link: bytes, signed_at: str) -> bytes:
    return f"{CHECKPOINT_FORMAT}\n{position}\n{link.hex()}\n{signed_at}\n".encode()


def export_lines(
    rows: Iterable[chain.ChainRow], first: int, last: int, previous: bytes
) -> Iterator[str]:
    """The export's lines (each ends with a newline) for rows first..last."""
    header = {"format": FORMAT, "from": first, "to": last, "previous_link": previous.hex()}
    yield json.dumps(header) + "\n"
    for position, originator_id, version, topic, state, link in rows:
        if originator_id is None or state is None or link is None:
            # Exported as found: the verifier will name this position.
            yield json.dumps({"position": position, "missing": True}) + "\n"
            continue
        line = {
            "position": position,
            "originator_id": str(UUID(bytes=bytes(originator_id))),
            "originator_version": version,
            "topic": topic,
            "state": base64.b64encode(state).decode(),
            "link": link.hex(),
        }
        yield json.dumps(line) + "\n"


@dataclass(frozen=True)
class ExportCheck:
    result: chain.VerifyResult
    links: dict[int, bytes]  # position -> recomputed link, for the positions asked about


def check_export(lines: Iterable[str], positions: Iterable[int] = ()) -> ExportCheck:
    """Recompute an export's chain; also report the links at `positions`."""
    iterator = iter(lines)
    header = json.loads(next(iterator))
    if header.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    wanted, found = set(positions), {}
    previous = bytes.fromhex(header["previous_link"])

    def rows() -> Iterator[chain.ChainRow]:
        for text in iterator:
            line = json.loads(text)
            if line.get("missing"):
                yield (line["position"], None, None, None, None, None)
                continue
            row: chain.ChainRow = (
                line["position"],
                UUID(line["originator_id"]).bytes,
                line["originator_version"],
                line["topic"],
                base64.b64decode(line["state"]),
                bytes.fromhex(line["link"]),
            )
            if row[0] in wanted:
                found[row[0]] = row[5] or b""
            yield row

    result = chain.walk(rows(), previous, int(header["from"]) - 1)
    return ExportCheck(result, found)
