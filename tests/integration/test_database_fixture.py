import psycopg
import pytest

pytestmark = pytest.mark.integration


def _name_and_tables(url: str) -> tuple[str, int]:
    with psycopg.connect(url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    assert name is not None and tables is not None
    return str(name[0]), int(tables[0])


def test_database_url_is_a_database_of_this_test_session(database_url: str) -> None:
    name, _ = _name_and_tables(database_url)
    assert name.startswith("trawl_test_")


def test_empty_database_url_is_a_fresh_empty_database(
    database_url: str, empty_database_url: str
) -> None:
    name, tables = _name_and_tables(empty_database_url)
    assert name.startswith("trawl_test_") and name != _name_and_tables(database_url)[0]
    assert tables == 0
