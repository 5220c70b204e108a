import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from infrastructure.embedded.postgres import EmbeddedPostgres

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_JOIN = """
import sys
from pathlib import Path
from infrastructure.embedded.postgres import EmbeddedPostgres
print(EmbeddedPostgres.start(Path(sys.argv[1])).url)
"""


def _started_at(url: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


def test_started_server_accepts_queries_on_the_trawl_database(tmp_path: Path) -> None:
    server = EmbeddedPostgres.start(tmp_path)
    try:
        with psycopg.connect(server.url) as conn:
            row = conn.execute("SELECT 1, current_database()").fetchone()
        assert row == (1, "trawl")
        assert (tmp_path / "postgres" / "PG_VERSION").exists()
    finally:
        server.stop()


def test_starting_again_on_the_same_directory_reuses_the_server(
    tmp_path: Path,
) -> None:
    server = EmbeddedPostgres.start(tmp_path)
    try:
        # Another process (a second `trawl` role) joins the running server
        # and leaves it running when it exits.
        joined = subprocess.run(
            [sys.executable, "-c", _JOIN, str(tmp_path)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        assert joined == server.url
        assert _started_at(server.url) == _started_at(joined)
    finally:
        server.stop()
