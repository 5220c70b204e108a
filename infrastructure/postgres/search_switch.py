"""Which embedding model a project's search index is built for, and which answers.

`trawl_search_projects[suffix]` holds, per project, the model its settings
ask for (`wanted`, from `Project.Created` and `EmbeddingModelChanged`) and
the model whose table answers its searches (`answering`). After a model
change the two differ until every URL the index holds for the project under
another model also has rows of the wanted one; then the switch completes:
`answering` becomes `wanted` (`switch`); after that commits, the projector
deletes the other models' rows from LanceDB, then here (`forget_others`).
The search projection writes this table, the search read side reads
`answering`.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

PROJECTS = "trawl_search_projects"
URLS = "trawl_search_urls"  # search_state.URLS; repeated so neither module imports the other


def create(curs: Cursor[DictRow], suffix: str = "") -> None:
    curs.execute(
        SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " project_id uuid PRIMARY KEY, wanted text NOT NULL, answering text)"
        ).format(Identifier(PROJECTS + suffix))
    )


def wanted(curs: Cursor[DictRow], suffix: str, project_id: UUID) -> str | None:
    curs.execute(
        SQL("SELECT wanted FROM {} WHERE project_id = %s").format(Identifier(PROJECTS + suffix)),
        (project_id,),
    )
    row = curs.fetchone()
    return None if row is None else str(row["wanted"])


def set_wanted(curs: Cursor[DictRow], suffix: str, project_id: UUID, model_id: str) -> None:
    curs.execute(
        SQL(
            "INSERT INTO {} (project_id, wanted) VALUES (%s, %s)"
            " ON CONFLICT (project_id) DO UPDATE SET wanted = EXCLUDED.wanted"
        ).format(Identifier(PROJECTS + suffix)),
        (project_id, model_id),
    )


def forget(curs: Cursor[DictRow], suffix: str, project_id: UUID) -> None:
    curs.execute(
        SQL("DELETE FROM {} WHERE project_id = %s").format(Identifier(PROJECTS + suffix)),
        (project_id,),
    )


def held(curs: Cursor[DictRow], suffix: str, project_id: UUID, model_id: str) -> dict[UUID, str]:
    """Every URL the index holds for the project (any model) -> the key of its
    `model_id` vectors in the index ('' when it has none of that model)."""
    curs.execute(
        SQL(
            "SELECT url_id, max(CASE WHEN model_id = %s THEN vectors_key ELSE '' END) AS key"
            " FROM {} WHERE project_id = %s GROUP BY url_id"
        ).format(Identifier(URLS + suffix)),
        (model_id, project_id),
    )
    return {row["url_id"]: str(row["key"]) for row in curs.fetchall()}


def completed(curs: Cursor[DictRow], suffix: str, project_id: UUID) -> tuple[str, list[str]] | None:
    """(wanted, the other models with rows) when the project's switch to its wanted
    model is complete and still has work left; None while it is under way or done."""
    projects, urls = Identifier(PROJECTS + suffix), Identifier(URLS + suffix)
    curs.execute(
        SQL(
            "SELECT p.wanted, p.answering,"
            " (SELECT array_agg(DISTINCT o.model_id) FROM {urls} o"
            "   WHERE o.project_id = p.project_id AND o.model_id <> p.wanted) AS others,"
            " EXISTS (SELECT 1 FROM {urls} o WHERE o.project_id = p.project_id"
            "   AND o.model_id <> p.wanted AND NOT EXISTS (SELECT 1 FROM {urls} n"
            "     WHERE n.url_id = o.url_id AND n.model_id = p.wanted)) AS lagging"
            " FROM {projects} p WHERE p.project_id = %s"
        ).format(urls=urls, projects=projects),
        (project_id,),
    )
    row = curs.fetchone()
    if row is None or row["lagging"]:
        return None
    others = list(row["others"] or [])
    if not others and row["answering"] == row["wanted"]:
        return None
    return str(row["wanted"]), others


def switch(curs: Cursor[DictRow], suffix: str, project_id: UUID, model_id: str) -> None:
    """The project answers from `model_id` (its other models' rows stay until
    `forget_others`, so a switch cut short is still found `completed`)."""
    curs.execute(
        SQL("UPDATE {} SET answering = %s WHERE project_id = %s").format(
            Identifier(PROJECTS + suffix)
        ),
        (model_id, project_id),
    )


def forget_others(curs: Cursor[DictRow], suffix: str, project_id: UUID, model_id: str) -> None:
    """The rows of the project's models other than `model_id` are gone."""
    curs.execute(
        SQL("DELETE FROM {} WHERE project_id = %s AND model_id <> %s").format(
            Identifier(URLS + suffix)
        ),
        (project_id, model_id),
    )


def answering(datastore: PostgresDatastore, project_id: UUID) -> str | None:
    """The model whose table answers the project's searches (None: nothing indexed yet)."""
    with datastore.transaction(commit=False) as curs:
        curs.execute(
            "SELECT answering FROM trawl_search_projects WHERE project_id = %s",
            (project_id,),
            prepare=True,
        )
        row = curs.fetchone()
        return None if row is None or row["answering"] is None else str(row["answering"])
