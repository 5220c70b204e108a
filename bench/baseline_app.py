"""The baseline of section `commands`: what a team would write without event sourcing.

A minimal Litestar app with the same authentication as Trawl (Litestar
`JWTAuth`, HS256, and a `retrieve_user_handler` that loads the user row and
checks the token's password version, as Trawl's does), the same msgspec body
(`name` trimmed to 1-200 characters, optional `description`), and ONE plain
`INSERT` + `COMMIT` per request through a psycopg_pool pool sized like
Trawl's (10 + 10 overflow). Answers 201 `{"id", "version"}`.

Run it exactly as `trawl serve` runs Trawl (uvicorn, 1 worker, access log
off), with BENCH_DATABASE_URL, BENCH_JWT_SECRET, BENCH_HOST, BENCH_PORT:
    python -m bench.baseline_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from litestar import Litestar, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.security.jwt import JWTAuth, Token
from psycopg_pool import AsyncConnectionPool

DDL = (
    "CREATE TABLE IF NOT EXISTS bench_users ("
    " id uuid PRIMARY KEY, role text NOT NULL, password_version int NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_projects ("
    " id uuid PRIMARY KEY, owner_id uuid NOT NULL, name text NOT NULL,"
    " description text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
)
PASSWORD_VERSION_CLAIM = "password_version"


class CreateProject(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(max_length=1000)]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


@dataclass(frozen=True)
class User:
    id: UUID
    role: str


pool = AsyncConnectionPool(
    os.environ.get("BENCH_DATABASE_URL", ""), min_size=10, max_size=20, open=False
)


async def retrieve_user(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT role, password_version FROM bench_users WHERE id = %s", (UUID(token.sub),)
        )
        row = await cursor.fetchone()
    if row is None or token.extras.get(PASSWORD_VERSION_CLAIM) != row[1]:
        return None
    return User(UUID(token.sub), row[0])


auth = JWTAuth[User, Token](
    token_secret=os.environ.get("BENCH_JWT_SECRET", ""),
    retrieve_user_handler=retrieve_user,
    exclude=["^/health$"],
)


@post("/api/v1/projects", status_code=201)
async def create_project(data: CreateProject, request: Request[User, Token, Any]) -> dict[str, Any]:
    name = data.name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationException("name must be 1-200 characters after trimming")
    project_id = uuid4()
    async with pool.connection() as conn:  # commits on leaving the block
        await conn.execute(
            "INSERT INTO bench_projects (id, owner_id, name, description) VALUES (%s, %s, %s, %s)",
            (project_id, request.user.id, name, data.description.strip()),
        )
    return {"id": str(project_id), "version": 1}


@get("/health")
async def health() -> str:
    return "ok"


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    await pool.open(wait=True)
    async with pool.connection() as conn:
        for statement in DDL:
            await conn.execute(statement)
    try:
        yield
    finally:
        await pool.close()


app = Litestar(
    route_handlers=[create_project, health], on_app_init=[auth.on_app_init], lifespan=[lifespan]
)


def main() -> None:
    import uvicorn

    # The same call `trawl serve` makes (interfaces/cli/serve.py).
    uvicorn.run(
        app,
        host=os.environ.get("BENCH_HOST", "127.0.0.1"),
        port=int(os.environ["BENCH_PORT"]),
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
