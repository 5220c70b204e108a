"""Commands at the edge: `Idempotency-Key`, correlation, and the answer.

Every command handler asks for a `Command` and runs its use case through
`Command.run`. With an `Idempotency-Key` (1-200 printable characters), the
key is scoped to the caller's principal (or `anonymous`), the method and the
path, and the request is fingerprinted by sha256 of method, path and body:

- a stored answer with the same fingerprint is replayed (status and body,
  `Idempotency-Replayed: true`), a different fingerprint is 422
  `idempotency-key-reused`; nothing runs;
- otherwise the use case gets an `IdempotencyRequest` and stores its answer
  in the same transaction as its events. When a concurrent twin committed
  first, the command fails (a taken key, a version moved on) and the twin's
  answer is replayed instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from application import records
from application.auth.principal import Caller
from application.store import (
    CommandResult,
    IdempotencyRequest,
    NotFound,
    TrawlStore,
    VersionConflict,
)
from domain.common import Context, DomainError
from interfaces.bootstrap import Trawl
from interfaces.http.correlation import request_id
from interfaces.http.errors import HttpProblem
from interfaces.http.schemas import Schema

HEADER = "Idempotency-Key"
POSITION_HEADER = "X-Trawl-Position"
REPLAYED_HEADER = "Idempotency-Replayed"
ANONYMOUS = "anonymous"
MAX_KEY_LENGTH = 200
S = TypeVar("S", bound=Schema)

# Documents the header on command controllers (`parameters = IDEMPOTENCY_KEY`).
IDEMPOTENCY_KEY: dict[str, Any] = {
    "idempotency_key": HeaderParameter(
        name=HEADER,
        annotation=str | None,
        required=False,
        description="Retry-safe command: the same key and body replay the first answer.",
    )
}

# What a command raises when a concurrent twin with the same key won the race.
TWIN_LOST = (records.IdempotencyConflict, DomainError, VersionConflict, NotFound)


@dataclass(frozen=True)
class Command:
    """The edge of one command request (a dependency of command handlers)."""

    store: TrawlStore
    correlation_id: str
    status: int
    idempotency: IdempotencyRequest | None = None
    replay: records.IdempotencyRecord | None = None

    def context(self, caller: Caller | None = None) -> Context:
        """The command context: the caller's, or the API's own on public routes."""
        if caller is None:
            return Context("system:api", self.correlation_id)
        return caller.context(self.correlation_id)

    def run(
        self, use_case: Callable[[IdempotencyRequest | None], CommandResult], answer: type[S]
    ) -> Response[S]:
        """Run the use case once per key; answer with its result (or the stored one)."""
        if self.replay is not None:
            return _replayed(self.replay, answer)
        try:
            result = use_case(self.idempotency)
        except TWIN_LOST:
            twin = self._stored_twin()
            if twin is None:
                raise
            return _replayed(twin, answer)
        body = msgspec.convert(result.body(), answer)
        return Response(body, status_code=self.status, headers=_position(result.position))

    def _stored_twin(self) -> records.IdempotencyRecord | None:
        request = self.idempotency
        if request is None:
            return None
        stored = self.store.side.idempotency(
            request.principal, request.method, request.path, request.key
        )
        return _checked(stored, request.request_hash)


async def provide_command(
    request: Request[Any, Any, Any], trawl: NamedDependency[Trawl]
) -> Command:
    """Parse `Idempotency-Key`, look the key up, and describe the command."""
    status = request.route_handler.status_code or 200
    base = Command(trawl.store, request_id(request.scope), status)
    key = request.headers.get(HEADER)
    if key is None:
        return base
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise HttpProblem(
            400, "invalid-request", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    user = request.scope.get("user")
    principal = user.principal_key if isinstance(user, Caller) else ANONYMOUS
    method, path = request.method, request.scope["path"]
    digest = hashlib.sha256(f"{method}\n{path}\n".encode())
    digest.update(await request.body())
    idem = IdempotencyRequest(principal, method, path, key, digest.hexdigest(), status)
    stored = await anyio.to_thread.run_sync(
        trawl.store.side.idempotency, principal, method, path, key
    )
    return Command(
        base.store, base.correlation_id, status, idem, _checked(stored, idem.request_hash)
    )


def _checked(
    stored: records.IdempotencyRecord | None, request_hash: str
) -> records.IdempotencyRecord | None:
    if stored is not None and stored.request_hash != request_hash:
        raise HttpProblem(
            422,
            "idempotency-key-reused",
            f"this {HEADER} was used for a different request",
        )
    return stored


def _replayed(record: records.IdempotencyRecord, answer: type[S]) -> Response[S]:
    body = msgspec.convert(record.body, answer)
    headers = {**_position(int(record.body["position"])), REPLAYED_HEADER: "true"}
    return Response(body, status_code=record.status, headers=headers)


def _position(position: int) -> dict[str, str]:
    return {POSITION_HEADER: str(position)}
