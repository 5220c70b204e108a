import pytest

from infrastructure.postgres.database import conninfo, library_env

pytestmark = pytest.mark.unit


def test_a_tcp_url_becomes_library_settings() -> None:
    env = library_env("postgresql://trawl:s%40cret@db.example.org:6543/trawl_prod", pool_size=4)

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.example.org", "6543")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("trawl", "s@cret")
    assert env["POSTGRES_DBNAME"] == "trawl_prod"
    assert env["POSTGRES_POOL_SIZE"] == "4"


def test_db_functions_stay_off_so_positions_follow_commit_order() -> None:
    assert library_env("postgresql://localhost/x")["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"


def test_a_unix_socket_directory_is_the_host() -> None:
    env = library_env("postgresql://postgres@/trawl?host=/tmp/sock&port=5433")

    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("/tmp/sock", "5433")


def test_defaults_for_missing_parts() -> None:
    env = library_env("postgres://")

    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("127.0.0.1", "5432")
    assert (env["POSTGRES_USER"], env["POSTGRES_DBNAME"]) == ("postgres", "postgres")


@pytest.mark.parametrize("url", ["mysql://localhost/x", "sqlite:///x.db", "localhost:5432"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        library_env(url)


def test_conninfo_names_every_part() -> None:
    info = conninfo("postgresql://ada:pw@localhost:5433/db")

    assert "dbname='db'" in info
    assert "host='localhost'" in info
    assert "port=5433" in info
    assert "user='ada'" in info
