"""The servers section `commands` compares, each started as real processes.

- `trawl serve` (API + projectors in one process), with a registered user's
  bearer token from `POST /api/v1/auth/token`;
- `trawl api` + `trawl projector` (the production split, two processes);
- bench/baseline_app.py (plain CRUD), with a token signed for a user row.
All listen on 127.0.0.1 on a free port and share the bench database.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import psycopg
from litestar.security.jwt import Token

from bench import load

TRAWL = Path(sys.executable).with_name("trawl")
BODY = json.dumps({"name": "Benchmark project", "description": "made by python -m bench"})
Child = tuple[subprocess.Popen[bytes], IO[bytes]]  # a process and its output log
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise


@dataclass(frozen=True)
class Side:
    """A running server under test: what to send it, and the pids doing the work."""

    load: load.Load
    pids: tuple[int, ...]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(argv: list[str], env: dict[str, str]) -> Iterator[Child]:
    """Run a process (output to a temporary log) until the block ends."""
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            yield child, log
        finally:
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


@contextmanager
def http_server(argv: list[str], env: dict[str, str], ready: str) -> Iterator[tuple[str, int]]:
    """Yield (base URL, pid) once GET `ready` answers 200; `{port}` in argv/env is filled in."""
    port = str(free_port())
    argv = [a.replace("{port}", port) for a in argv]
    env = {k: v.replace("{port}", port) for k, v in env.items()}
    base = f"http://127.0.0.1:{port}"
    with process(argv, env) as (child, log):
        deadline = time.monotonic() + 60
        while True:
            if child.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{argv} did not start:\n{log.read().decode()[-3000:]}")
            try:
                if httpx.get(base + ready, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, child.pid


@contextmanager
def trawl_server(url: str, *, split: bool = False) -> Iterator[Side]:
    """`trawl serve`, or with `split` `trawl api` + `trawl projector`, signed in."""
    with tempfile.TemporaryDirectory(prefix="trawl-bench-") as data_dir:
        env = {"TRAWL_DATABASE_URL": url, "TRAWL_DATA_DIR": data_dir, "TRAWL_LOG_LEVEL": "WARNING"}
        argv = [str(TRAWL), "api" if split else "serve", "--host", "127.0.0.1", "--port", "{port}"]
        with ExitStack() as stack:
            pids = []
            if split:
                follower, _ = stack.enter_context(process([str(TRAWL), "projector"], env))
                pids.append(follower.pid)
            base, pid = stack.enter_context(http_server(argv, env, "/health/ready"))
            account = {"email": f"bench-{secrets.token_hex(4)}@example.com"}
            account["password"] = secrets.token_urlsafe(16)
            answer = httpx.post(
                base + "/api/v1/auth/register", json={**account, "display_name": "Bench"}
            )
            answer.raise_for_status()
            answer = httpx.post(base + "/api/v1/auth/token", json=account)
            answer.raise_for_status()
            yield Side(_load(base, answer.json()["access_token"]), (pid, *pids))


@contextmanager
def baseline_server(url: str) -> Iterator[Side]:
    """bench/baseline_app.py on the bench database, and a token for a user row."""
    secret, user_id = secrets.token_urlsafe(32), uuid.uuid4()
    env = {"BENCH_DATABASE_URL": url, "BENCH_JWT_SECRET": secret, "BENCH_PORT": "{port}"}
    argv = [sys.executable, "-m", "bench.baseline_app"]
    with http_server(argv, env, "/health") as (base, pid):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO bench_users VALUES (%s, 'user', 1)", (user_id,))
        now = datetime.now(UTC)
        token = Token(
            sub=str(user_id), exp=now + timedelta(hours=1), iat=now, extras={"password_version": 1}
        )
        yield Side(_load(base, token.encode(secret, "HS256")), (pid,))


def _load(base: str, token: str) -> load.Load:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return load.Load(base, "/api/v1/projects", BODY.encode(), headers)
