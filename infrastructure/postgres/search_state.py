"""What the search projection keeps in Postgres beside its LanceDB tables.

- `trawl_search_state`: the live generation of the LanceDB tables.
- `trawl_search_urls[suffix]`: per (URL, model), the vectors the index holds
  for it (feeds `indexed` on the URL views and the model switch); a row
  with no vectors (key '') stands for the model's refusal of the URL.
- `trawl_search_dropped[suffix]`: deleted projects, so a late `Vectorized`
  of one of their URLs is never indexed.
- `trawl_search_projects[suffix]`: each project's wanted and answering
  model (`search_switch`).
The projection's position is in `trawl_view_positions` (view `search`).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from infrastructure.postgres import search_switch

VIEW = "search"
URLS, DROPPED = "trawl_search_urls", "trawl_search_dropped"
TABLES = (URLS, DROPPED, search_switch.PROJECTS)  # what a rebuild fills aside and swaps in


def create(curs: Cursor[DictRow], suffix: str = "") -> None:
    """The tables (live, or a rebuild's under `suffix`), idempotently."""
    urls, dropped = Identifier(URLS + suffix), Identifier(DROPPED + suffix)
    curs.execute(
        "CREATE TABLE IF NOT EXISTS trawl_search_state ("
        " view text PRIMARY KEY, generation integer NOT NULL)"
    )
    curs.execute("INSERT INTO trawl_search_state VALUES (%s, 1) ON CONFLICT DO NOTHING", (VIEW,))
    curs.execute(
        SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " url_id uuid NOT NULL, model_id text NOT NULL, project_id uuid NOT NULL,"
            " version integer NOT NULL, vectors_key text NOT NULL, chunks integer NOT NULL,"
            " PRIMARY KEY (url_id, model_id))"
        ).format(urls)
    )
    curs.execute(
        SQL("CREATE INDEX IF NOT EXISTS {} ON {} (project_id, model_id)").format(
            Identifier(f"{URLS}{suffix}_project"), urls
        )
    )
    curs.execute(SQL("CREATE TABLE IF NOT EXISTS {} (project_id uuid PRIMARY KEY)").format(dropped))
    search_switch.create(curs, suffix)


def generation(curs: Cursor[DictRow]) -> int:
    curs.execute("SELECT generation FROM trawl_search_state WHERE view = %s", (VIEW,))
    row = curs.fetchone()
    return int(row["generation"]) if row else 1


def indexed(
    curs: Cursor[DictRow],
    suffix: str,
    url_id: UUID,
    project_id: UUID,
    model_id: str,
    version: int,
    vectors_key: str,
    chunks: int,
) -> None:
    curs.execute(
        SQL(
            "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (url_id, model_id)"
            " DO UPDATE SET version = EXCLUDED.version, vectors_key = EXCLUDED.vectors_key,"
            " chunks = EXCLUDED.chunks"
        ).format(Identifier(URLS + suffix)),
        (url_id, model_id, project_id, version, vectors_key, chunks),
    )


def refused(
    curs: Cursor[DictRow], suffix: str, url_id: UUID, project_id: UUID, model_id: str, version: int
) -> None:
    """The model refused the URL's chunks: its rows go, and one without vectors
    (key '') stands for the refusal, so a model switch neither waits for the
    URL nor forgets it (a switch back to a model it has vectors of indexes it)."""
    forget_url(curs, suffix, url_id)
    curs.execute(
        SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, '', 0)").format(Identifier(URLS + suffix)),
        (url_id, model_id, project_id, version),
    )


def forget_url(curs: Cursor[DictRow], suffix: str, url_id: UUID) -> None:
    curs.execute(
        SQL("DELETE FROM {} WHERE url_id = %s").format(Identifier(URLS + suffix)), (url_id,)
    )


def drop_project(curs: Cursor[DictRow], suffix: str, project_id: UUID) -> None:
    curs.execute(
        SQL("DELETE FROM {} WHERE project_id = %s").format(Identifier(URLS + suffix)), (project_id,)
    )
    curs.execute(
        SQL("INSERT INTO {} VALUES (%s) ON CONFLICT DO NOTHING").format(
            Identifier(DROPPED + suffix)
        ),
        (project_id,),
    )
    search_switch.forget(curs, suffix, project_id)


def is_dropped(curs: Cursor[DictRow], suffix: str, project_id: UUID) -> bool:
    curs.execute(
        SQL("SELECT 1 FROM {} WHERE project_id = %s").format(Identifier(DROPPED + suffix)),
        (project_id,),
    )
    return curs.fetchone() is not None


def live_generation(datastore: PostgresDatastore) -> int:
    with datastore.transaction(commit=False) as curs:
        return generation(curs)
