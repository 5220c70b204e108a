"""Verify the hash chain: recompute every link from the stored bytes."""

from __future__ import annotations

import itertools

from application.audit import chain
from application.audit.ports import AuditLog
from application.store import InvalidRequest


class ChainVerifier:
    """Walks the log's hash chain and names the first bad position."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def verify(
        self,
        after: int = 0,
        previous: bytes | None = None,
        upto: int | None = None,
        progress: chain.Progress | None = None,
        limit: int | None = None,
    ) -> chain.VerifyResult:
        """Walk positions after `after` (up to `upto`).

        `previous` is the link at `after` as the caller trusts it (from a
        signed checkpoint or an earlier walk); left out, the stored one is
        taken, which proves the rest of the chain consistent with it. At
        most `limit` events are walked.
        """
        if previous is None:
            previous = self.log.link_at(after)
            if previous is None:
                raise InvalidRequest(f"no event with a link at position {after}")
        rows = self.log.chain_rows(after, upto)
        if limit is not None:
            rows = itertools.islice(rows, limit)
        return chain.walk(rows, previous, after, progress)
