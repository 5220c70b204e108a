"""Throwaway benchmark databases: `trawl_bench_<hex>`, dropped at the end.

The server is `$TRAWL_BENCH_DATABASE_URL`, else the local Postgres on
127.0.0.1:5432 when it answers, else an embedded Postgres started in a
temporary directory (the same wheel `trawl serve` uses).
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ENV_URL = "TRAWL_BENCH_DATABASE_URL"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = "trawl_bench_"


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the URL of a server to create bench databases on."""
    explicit = os.environ.get(ENV_URL)
    if explicit:
        yield explicit
        return
    if answers(LOCAL_URL):
        yield LOCAL_URL
        return
    from infrastructure.embedded.postgres import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="trawl-bench-pg-") as tmp:
        server = EmbeddedPostgres.start(Path(tmp))
        try:
            yield server.url
        finally:
            server.stop()


def answers(url: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5432), timeout):
            pass
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))):
            return True
    except (OSError, psycopg.Error):
        return False


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on `server_url` for the duration of the block."""
    name = PREFIX + secrets.token_hex(6)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
    try:
        yield urlsplit(server_url)._replace(path="/" + name).geturl()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
