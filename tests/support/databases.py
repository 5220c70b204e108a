"""Throwaway PostgreSQL databases for tests.

A test session finds a server (an explicit URL, the local Postgres on
127.0.0.1:5432, or an embedded one), then creates databases named
`trawl_test_<hex>` on it and drops them when done. Under pytest-xdist each
worker is its own session, so workers never share a database.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from infrastructure.embedded.postgres import EmbeddedPostgres

ENV_URL = "TRAWL_TEST_DATABASE_URL"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = "trawl_test_"


@contextmanager
def postgres_server(embedded_dir: Path) -> Iterator[str]:
    """Yield a server URL: $TRAWL_TEST_DATABASE_URL, local Postgres, or embedded.

    The embedded server lives in `embedded_dir`; xdist workers given the same
    directory share one server, and the last one to finish stops it.
    """
    explicit = os.environ.get(ENV_URL)
    if explicit:
        yield explicit
    elif answers(LOCAL_URL, timeout=2.0):
        yield LOCAL_URL
    else:
        server = EmbeddedPostgres.start(embedded_dir)
        try:
            yield server.url
        finally:
            server.stop()


def answers(url: str, timeout: float) -> bool:
    """True when a server accepts TCP and a psycopg login within `timeout`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5432), timeout):
            pass
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))):
            return True
    except (OSError, psycopg.Error):
        return False


def create_database(server_url: str) -> str:
    """Create an empty `trawl_test_<hex>` database; return its URL."""
    name = PREFIX + secrets.token_hex(6)
    # template0: nothing a previous test left in template1 leaks in, and no
    # other session can hold template0 open (CREATE DATABASE would wait).
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement.format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database `url` names, closing any connection still open to it."""
    name = database_name(url)
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement.format(sql.Identifier(name)))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database for the duration of the block."""
    url = create_database(server_url)
    try:
        yield url
    finally:
        drop_database(server_url, url)


def database_name(url: str) -> str:
    """The database a `postgresql://` URL names."""
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    """The same server URL (user, host, socket, options) on database `name`."""
    return urlsplit(url)._replace(path="/" + name).geturl()
