"""From a Postgres URL to the library's persistence settings, and back."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit


def library_env(url: str, pool_size: int = 10, max_overflow: int = 10) -> dict[str, str]:
    """The eventsourcing persistence environment for a `postgresql://` URL.

    The URL may name a unix-socket directory with `?host=/path` (embedded
    Postgres). Settings are passed explicitly, so `TRAWL_*` stay the only
    variables users see.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("database URL must start with postgresql://")
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(max_overflow),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        # Fail fast rather than queue forever when the pool is exhausted.
        "POSTGRES_MAX_WAITING": str(max(64, 4 * (pool_size + max_overflow))),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "y",
    }


def conninfo(url: str) -> str:
    """A libpq conninfo string for psycopg.connect (handles the socket form)."""
    env = library_env(url)
    return (
        f"dbname={env['POSTGRES_DBNAME']!r} host={env['POSTGRES_HOST']!r}"
        f" port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']!r}"
        f" password={env['POSTGRES_PASSWORD']!r}"
    ).replace('"', "'")
