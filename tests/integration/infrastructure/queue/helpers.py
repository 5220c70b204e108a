"""Direct SQL on the queue's table (what an operator, or time passing, would do)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from tests.support.waiting import eventually  # noqa: F401 - re-exported for the tests here


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def job_row(url: str, job_id: UUID) -> dict[str, Any] | None:
    rows = query(url, "SELECT * FROM trawl_jobs WHERE id = %s", (job_id,))
    return rows[0] if rows else None


def count_jobs(url: str) -> int:
    return int(query(url, "SELECT count(*) AS n FROM trawl_jobs")[0]["n"])


def expire_lease(url: str, job_id: UUID) -> None:
    """The lease ran out: as if its worker died `lease_seconds` ago."""
    query(
        url,
        "UPDATE trawl_jobs SET leased_until = now() - interval '1 second' WHERE id = %s"
        " RETURNING id",
        (job_id,),
    )


def make_due(url: str, job_id: UUID) -> None:
    """The backoff has passed."""
    query(
        url,
        "UPDATE trawl_jobs SET not_before = now() - interval '1 second' WHERE id = %s RETURNING id",
        (job_id,),
    )
