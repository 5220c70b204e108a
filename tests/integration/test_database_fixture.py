import psycopg
import pytest

pytestmark = pytest.mark.integration


def test_database_url_is_an_empty_database_of_its_own(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    assert name is not None
    assert name[0].startswith("trawl_test_")
    assert tables == (0,)
