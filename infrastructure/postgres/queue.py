"""The job queue on Postgres: leases, fencing tokens, per-host politeness.

One row of `trawl_jobs` per live job, at most one per (kind, subject_id)
(unique), so enqueuing twice merges: the earliest `not_before` and the latest
payload win. A job is due when `not_before` has passed and nobody holds a live
lease; the stored column `due_at` says exactly that (`not_before`, or the
lease's end while leased), so one index on (kind, due_at) serves claiming,
and an expired lease needs no watchdog to become claimable again.

Claiming (`FOR UPDATE SKIP LOCKED`, so claimers never wait for nor share a
row) sets a NEW random `lease_id` (the fencing token), the owner,
`leased_until = now() + lease` and `attempts + 1`. `extend`, `complete` and
`retry` act only while the row still carries the caller's `lease_id`: a
worker whose lease expired and was claimed again (or freed by
`release_expired`) gets False and changes nothing. Enqueued while leased, a
job is flagged `rerun`: completing it then frees it instead of deleting it,
so a request made during the work is never lost.

With `per_host_limit`, claims of a kind take a transaction-scoped advisory
lock for that kind (claims take milliseconds) and skip a host's jobs beyond
the limit minus its live leases, so the limit holds under concurrent workers.
Every time is the database's `now()`, never a worker's clock.
`enqueue_in(curs, ...)` enqueues inside a caller's transaction (the recorder,
a projector), so the job commits or rolls back with their rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from application.ports import Backlog, Job, Lease

DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_jobs ("
    " id uuid PRIMARY KEY DEFAULT gen_random_uuid(), kind text NOT NULL,"
    " subject_id uuid NOT NULL, payload jsonb NOT NULL DEFAULT '{}',"
    " not_before timestamptz NOT NULL DEFAULT now(), attempts integer NOT NULL DEFAULT 0,"
    " lease_id uuid, lease_owner text, leased_until timestamptz, host text,"
    " rerun boolean NOT NULL DEFAULT false,"
    " due_at timestamptz GENERATED ALWAYS AS (CASE WHEN lease_id IS NULL THEN not_before"
    " ELSE greatest(not_before, leased_until) END) STORED,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " updated_at timestamptz NOT NULL DEFAULT now())",
    "CREATE UNIQUE INDEX IF NOT EXISTS trawl_jobs_subject ON trawl_jobs (kind, subject_id)",
    "CREATE INDEX IF NOT EXISTS trawl_jobs_due ON trawl_jobs (kind, due_at)",
    "CREATE INDEX IF NOT EXISTS trawl_jobs_subject_id ON trawl_jobs (subject_id)",
    "CREATE INDEX IF NOT EXISTS trawl_jobs_leased ON trawl_jobs (leased_until)"
    " WHERE lease_id IS NOT NULL",
)
CHANNEL = "trawl_jobs"  # NOTIFY'd with the kind when a job is enqueued, or frees a host's slot
# not_before as given: an absolute time, or a delay from the database's now().
_AT = "coalesce(%(at)s::timestamptz, now() + %(delay)s::interval)"
_LIVE = "lease_id IS NOT NULL AND leased_until > now()"
_FREE = "lease_id = NULL, lease_owner = NULL, leased_until = NULL, rerun = false"
_LEASE_COLUMNS = "id, lease_id, kind, subject_id, payload, attempts, leased_until"
# Leases the jobs a claim's `picked` CTE chose (and `also` allows): a new fencing token each.
_LEASE_PICKED = (
    " UPDATE trawl_jobs SET lease_id = gen_random_uuid(), lease_owner = %(owner)s,"
    " leased_until = now() + make_interval(secs => %(lease)s), attempts = attempts + 1,"
    " rerun = false, updated_at = now() FROM picked{also} WHERE {allowed}trawl_jobs.id = picked.id"
    f" RETURNING {', '.join('trawl_jobs.' + c for c in _LEASE_COLUMNS.split(', '))}"
)
_CLAIM = (
    "WITH {ranked}picked AS (SELECT j.id FROM trawl_jobs j"
    " WHERE j.kind = %(kind)s AND j.due_at <= now(){eligible} ORDER BY j.due_at, j.id"
    " LIMIT %(limit)s FOR UPDATE OF j SKIP LOCKED)"
) + _LEASE_PICKED.format(also="", allowed="")
# A host's due jobs ranked by due time; only the first (limit - live leases)
# qualify. Materialized and joined back by id array, so the planner cannot
# re-rank once per candidate row (a fresh, unanalyzed table invites a nested
# loop that cost 40-60 ms a claim at 200 queued jobs).
_PER_HOST_RANKED = (
    "busy AS MATERIALIZED (SELECT host, count(*) AS n FROM trawl_jobs"
    f" WHERE kind = %(kind)s AND {_LIVE} GROUP BY host),"
    " eligible AS MATERIALIZED (SELECT r.id FROM (SELECT id, host, row_number() OVER"
    " (PARTITION BY host ORDER BY due_at, id) AS rank FROM trawl_jobs"
    " WHERE kind = %(kind)s AND due_at <= now()) r LEFT JOIN busy USING (host)"
    " WHERE r.host IS NULL OR r.rank + coalesce(busy.n, 0) <= %(per_host)s), "
)
_PER_HOST = " AND j.id = ANY(ARRAY(SELECT id FROM eligible))"
# A batch claim that lingers: the rows this claim locked are taken only when
# they are `limit` many or the oldest has waited `linger` seconds; a claim
# never takes the young rest that another claim in flight left (SKIP LOCKED).
_LINGER = (
    "WITH picked AS (SELECT j.id, j.due_at FROM trawl_jobs j"
    " WHERE j.kind = %(kind)s AND j.due_at <= now() ORDER BY j.due_at, j.id"
    " LIMIT %(limit)s FOR UPDATE OF j SKIP LOCKED),"
    " go AS (SELECT count(*) >= %(limit)s"
    " OR min(due_at) <= now() - make_interval(secs => %(linger)s) AS ok FROM picked)"
) + _LEASE_PICKED.format(also=", go", allowed="go.ok AND ")


def _when(not_before: datetime | timedelta | None) -> dict[str, Any]:
    if isinstance(not_before, datetime):
        if not_before.tzinfo is None:
            raise ValueError("not_before must be timezone-aware")
        return {"at": not_before, "delay": timedelta(0)}
    return {"at": None, "delay": not_before or timedelta(0)}


def enqueue_in(
    curs: Cursor[DictRow],
    kind: str,
    subject_id: UUID,
    payload: Mapping[str, Any],
    not_before: datetime | timedelta | None = None,
    *,
    host: str | None = None,
    notify: bool = True,
) -> UUID:
    """Enqueue within the caller's transaction (see `PostgresJobQueue.enqueue`);
    `notify` False: no worker is woken (the caller leases the job itself)."""
    curs.execute(
        "INSERT INTO trawl_jobs (kind, subject_id, payload, host, not_before)"
        f" VALUES (%(kind)s, %(subject)s, %(payload)s, %(host)s, {_AT})"
        " ON CONFLICT (kind, subject_id) DO UPDATE SET payload = EXCLUDED.payload,"
        " host = coalesce(EXCLUDED.host, trawl_jobs.host),"
        # Leased and not yet flagged: the old not_before is spent, the new one counts.
        " not_before = CASE WHEN trawl_jobs.lease_id IS NOT NULL AND NOT trawl_jobs.rerun"
        " THEN EXCLUDED.not_before ELSE least(trawl_jobs.not_before, EXCLUDED.not_before) END,"
        " rerun = trawl_jobs.lease_id IS NOT NULL, updated_at = now() RETURNING id",
        {"kind": kind, "subject": subject_id, "payload": Jsonb(dict(payload)), "host": host}
        | _when(not_before),
    )
    row = curs.fetchone()
    assert row is not None
    if notify:  # delivered at commit (once per transaction): idle workers wake up at once
        curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, kind))
    return UUID(str(row["id"]))


def wake_in(curs: Cursor[DictRow], kind: str, subject_ids: list[UUID]) -> int:
    """`PostgresJobQueue.wake` within the caller's transaction."""
    curs.execute(
        "UPDATE trawl_jobs SET not_before = now(), updated_at = now() WHERE kind = %s"
        " AND subject_id = ANY(%s) AND lease_id IS NULL AND not_before > now()",
        (kind, subject_ids),
    )
    return curs.rowcount


def _complete_in(curs: Cursor[DictRow], lease: Lease) -> bool:
    fence = (lease.job_id, lease.lease_id)
    curs.execute(
        "DELETE FROM trawl_jobs WHERE id = %s AND lease_id = %s AND NOT rerun RETURNING host",
        fence,
    )
    row = curs.fetchone()
    if row is None:
        # Enqueued again while we worked (`rerun`): run it once more, as a fresh job.
        curs.execute(
            f"UPDATE trawl_jobs SET {_FREE}, attempts = 0, updated_at = now()"
            " WHERE id = %s AND lease_id = %s RETURNING host",
            fence,
        )
        row = curs.fetchone()
    _freed(curs, row, lease.kind)
    return row is not None


def _freed(curs: Cursor[DictRow], row: DictRow | None, kind: str) -> None:
    """A lease ended (`row`: the job's host, as RETURNING gave it). A host's slot
    is free: its jobs waiting on per-host politeness may be claimed now, and a
    worker that found none claims this kind only when rung."""
    if row is not None and row["host"] is not None:
        curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, kind))


def _lease(row: DictRow) -> Lease:
    return Lease(
        job_id=row["id"],
        lease_id=row["lease_id"],
        kind=row["kind"],
        subject_id=row["subject_id"],
        payload=row["payload"],
        attempt=row["attempts"],
        leased_until=row["leased_until"],
    )


class PostgresJobQueue:
    """The `JobQueue` port on Postgres (see the module docstring)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement in DDL:
                curs.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[Cursor[DictRow]]:
        """A queue transaction that does not wait for the WAL flush.

        Safe because every step is fenced and idempotent: a queue change lost
        in a database crash (commits stay in order) only repeats a job, or
        lets its lease expire and the job be taken over.
        """
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SET LOCAL synchronous_commit = off")
            yield curs

    def enqueue(
        self,
        kind: str,
        subject_id: UUID,
        payload: Mapping[str, Any],
        not_before: datetime | timedelta | None = None,
        *,
        host: str | None = None,
    ) -> UUID:
        with self._transaction() as curs:
            return enqueue_in(curs, kind, subject_id, payload, not_before, host=host)

    def claim(
        self,
        kind: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        per_host_limit: int | None = None,
        linger_seconds: float | None = None,
    ) -> list[Lease]:
        if lease_seconds <= 0 or limit < 1 or (per_host_limit is not None and per_host_limit < 1):
            raise ValueError("lease_seconds, limit and per_host_limit must be positive")
        if linger_seconds is not None and (linger_seconds < 0 or per_host_limit is not None):
            raise ValueError("linger_seconds must be >= 0, and not with per_host_limit")
        params = {"kind": kind, "owner": owner, "lease": lease_seconds, "limit": limit}
        with self._transaction() as curs:
            if linger_seconds is not None:
                curs.execute(_LINGER, params | {"linger": linger_seconds})
            elif per_host_limit is None:
                curs.execute(_CLAIM.format(ranked="", eligible=""), params)
            else:
                # Serialize this kind's per-host claims: each sees the others' leases.
                curs.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"trawl_jobs:claim:{kind}",),
                )
                curs.execute(
                    _CLAIM.format(ranked=_PER_HOST_RANKED, eligible=_PER_HOST),
                    params | {"per_host": per_host_limit},
                )
            return [_lease(row) for row in curs.fetchall()]

    def extend(self, lease: Lease, seconds: float) -> bool:
        return self._fenced(
            "UPDATE trawl_jobs SET leased_until = now() + make_interval(secs => %s),"
            " updated_at = now() WHERE id = %s AND lease_id = %s",
            (seconds, lease.job_id, lease.lease_id),
        )

    def complete(self, lease: Lease) -> bool:
        with self._transaction() as curs:
            return _complete_in(curs, lease)

    def complete_many(self, leases: Sequence[Lease]) -> list[bool]:
        with self._transaction() as curs:
            return [_complete_in(curs, lease) for lease in leases]

    def hand_off(self, lease: Lease, kind: str, payload: Mapping[str, Any]) -> bool:
        with self._transaction() as curs:
            enqueue_in(curs, kind, lease.subject_id, payload)
            return _complete_in(curs, lease)

    def advance(
        self,
        lease: Lease,
        kind: str,
        payload: Mapping[str, Any],
        owner: str,
        lease_seconds: float,
    ) -> Lease | None:
        """Complete `lease`'s job and take the next step's job (`kind`) for the same
        owner at once: one transaction instead of enqueue, complete and claim.
        None when our lease was lost, or the next job is leased by someone else
        (it is queued all the same)."""
        with self._transaction() as curs:
            # Leased to us below: waking the other workers would only cost them a claim.
            enqueue_in(curs, kind, lease.subject_id, payload, notify=False)
            curs.execute(
                "UPDATE trawl_jobs SET lease_id = gen_random_uuid(), lease_owner = %(owner)s,"
                " leased_until = now() + make_interval(secs => %(lease)s), attempts = attempts + 1,"
                " rerun = false, updated_at = now()"
                " WHERE kind = %(kind)s AND subject_id = %(subject)s"
                f" AND NOT ({_LIVE}) AND EXISTS (SELECT 1 FROM trawl_jobs"
                f" WHERE id = %(job)s AND lease_id = %(fence)s) RETURNING {_LEASE_COLUMNS}",
                {
                    "owner": owner,
                    "lease": lease_seconds,
                    "kind": kind,
                    "subject": lease.subject_id,
                    "job": lease.job_id,
                    "fence": lease.lease_id,
                },
            )
            row = curs.fetchone()
            if row is None:  # not ours after all: whoever may take it, wake them
                curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, kind))
            _complete_in(curs, lease)
            return _lease(row) if row else None

    def retry(self, lease: Lease, not_before: datetime | timedelta) -> bool:
        when = _when(not_before)
        return self._release(
            lease,
            f"UPDATE trawl_jobs SET {_FREE}, not_before = {_AT}, updated_at = now()"
            " WHERE id = %(job)s AND lease_id = %(lease)s RETURNING host",
            {"job": lease.job_id, "lease": lease.lease_id} | when,
        )

    def postpone(self, lease: Lease, not_before: datetime | timedelta) -> bool:
        when = _when(not_before)
        return self._release(
            lease,
            f"UPDATE trawl_jobs SET {_FREE}, attempts = greatest(attempts - 1, 0),"
            f" not_before = {_AT}, updated_at = now() WHERE id = %(job)s AND lease_id = %(lease)s"
            " RETURNING host",
            {"job": lease.job_id, "lease": lease.lease_id} | when,
        )

    def _release(self, lease: Lease, sql: str, params: Any) -> bool:
        """A fenced update that ends `lease` (its job waits for later)."""
        with self._transaction() as curs:
            curs.execute(sql, params)
            row = curs.fetchone()
            _freed(curs, row, lease.kind)
            return row is not None

    def release_expired(self) -> int:
        with self._transaction() as curs:
            curs.execute(
                f"UPDATE trawl_jobs SET {_FREE}, updated_at = now()"
                " WHERE lease_id IS NOT NULL AND leased_until <= now()"
            )
            return curs.rowcount

    def stats(self) -> dict[str, dict[str, int]]:
        """`backlog()`'s counts by kind."""
        return {
            b.kind: {"due": b.due, "leased": b.leased, "waiting": b.waiting} for b in self.backlog()
        }

    def backlog(self) -> list[Backlog]:
        """Each kind's jobs: due, leased, waiting, and the oldest due one's wait."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT kind, count(*) FILTER (WHERE due_at <= now()) AS due,"
                f" count(*) FILTER (WHERE {_LIVE}) AS leased,"
                f" count(*) FILTER (WHERE due_at > now() AND NOT ({_LIVE})) AS waiting,"
                " coalesce(extract(epoch FROM now() - min(due_at)"
                " FILTER (WHERE due_at <= now())), 0)::float8 AS oldest"
                " FROM trawl_jobs GROUP BY kind ORDER BY kind"
            )
            return [
                Backlog(r["kind"], r["due"], r["leased"], r["waiting"], round(r["oldest"], 3))
                for r in curs
            ]

    def job(self, kind: str, subject_id: UUID) -> Job | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT id, kind, subject_id, payload, not_before, attempts, host,"
                f" CASE WHEN {_LIVE} THEN leased_until END AS leased_until"
                " FROM trawl_jobs WHERE kind = %s AND subject_id = %s",
                (kind, subject_id),
            )
            row = curs.fetchone()
        return Job(job_id=row.pop("id"), **row) if row else None

    def delete_for(self, subject_id: UUID) -> int:
        with self._transaction() as curs:
            curs.execute("DELETE FROM trawl_jobs WHERE subject_id = %s", (subject_id,))
            return curs.rowcount

    def _fenced(self, sql: str, params: Any) -> bool:
        with self._transaction() as curs:
            curs.execute(sql, params)
            return curs.rowcount == 1
