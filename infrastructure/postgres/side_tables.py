"""Tables the recorder writes beside the events, and their reads.

`write()` runs inside the recorder's insert transaction; a taken claim or a
live idempotency key raises, which rolls the events back too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from application import records

IDEMPOTENCY_TTL = "24 hours"

DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_claims ("
    " scope text NOT NULL, value text NOT NULL, owner_id uuid NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (scope, value))",
    "CREATE TABLE IF NOT EXISTS trawl_idempotency ("
    " principal text NOT NULL, method text NOT NULL, path text NOT NULL,"
    " key text NOT NULL, request_hash text NOT NULL, status integer NOT NULL,"
    " body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (principal, method, path, key))",
    "CREATE INDEX IF NOT EXISTS trawl_idempotency_created_at ON trawl_idempotency (created_at)",
    "CREATE TABLE IF NOT EXISTS trawl_principals ("
    " user_id uuid PRIMARY KEY, role text NOT NULL, password_hash text NOT NULL,"
    " password_version integer NOT NULL DEFAULT 1,"
    " updated_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS trawl_api_keys ("
    " key_id uuid PRIMARY KEY, user_id uuid NOT NULL, key_hash text NOT NULL UNIQUE,"
    " name text NOT NULL, prefix text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(), last_used_at timestamptz)",
    "CREATE INDEX IF NOT EXISTS trawl_api_keys_user ON trawl_api_keys (user_id)",
)


def write(curs: Cursor[DictRow], side: Sequence[records.SideRecord], position: int) -> None:
    for record in side:
        _WRITERS[type(record)](curs, record, position)


def _claim(curs: Cursor[DictRow], r: records.Claim, _: int) -> None:
    curs.execute(
        "INSERT INTO trawl_claims (scope, value, owner_id) VALUES (%s, %s, %s)"
        " ON CONFLICT (scope, value) DO UPDATE SET owner_id = EXCLUDED.owner_id"
        " WHERE trawl_claims.owner_id = EXCLUDED.owner_id RETURNING owner_id",
        (r.scope, r.value, r.owner_id),
    )
    if curs.fetchone() is None:
        raise records.ClaimConflict(r.scope)


def _release(curs: Cursor[DictRow], r: records.ReleaseClaim, _: int) -> None:
    curs.execute("DELETE FROM trawl_claims WHERE scope = %s AND value = %s", (r.scope, r.value))


def _idempotency(curs: Cursor[DictRow], r: records.IdempotencyRecord, position: int) -> None:
    r.body["position"] = position
    # An expired record (older than the TTL) may be replaced; a live one wins.
    curs.execute(
        "INSERT INTO trawl_idempotency"
        " (principal, method, path, key, request_hash, status, body)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (principal, method, path, key) DO UPDATE SET"
        " request_hash = EXCLUDED.request_hash, status = EXCLUDED.status,"
        " body = EXCLUDED.body, created_at = now()"
        f" WHERE trawl_idempotency.created_at < now() - interval '{IDEMPOTENCY_TTL}'"
        " RETURNING 1",
        (r.principal, r.method, r.path, r.key, r.request_hash, r.status, Jsonb(r.body)),
    )
    if curs.fetchone() is None:
        raise records.IdempotencyConflict(r.key)


def _new_principal(curs: Cursor[DictRow], r: records.NewPrincipal, _: int) -> None:
    curs.execute(
        "INSERT INTO trawl_principals (user_id, role, password_hash) VALUES (%s, %s, %s)",
        (r.user_id, r.role, r.password_hash),
    )


def _password(curs: Cursor[DictRow], r: records.PasswordSet, _: int) -> None:
    curs.execute(
        "UPDATE trawl_principals SET password_hash = %s,"
        " password_version = password_version + 1, updated_at = now() WHERE user_id = %s",
        (r.password_hash, r.user_id),
    )


def _role(curs: Cursor[DictRow], r: records.RoleSet, _: int) -> None:
    curs.execute(
        "UPDATE trawl_principals SET role = %s, updated_at = now() WHERE user_id = %s",
        (r.role, r.user_id),
    )


def _key_insert(curs: Cursor[DictRow], r: records.ApiKeyInsert, _: int) -> None:
    curs.execute(
        "INSERT INTO trawl_api_keys (key_id, user_id, key_hash, name, prefix)"
        " VALUES (%s, %s, %s, %s, %s)",
        (r.key_id, r.user_id, r.key_hash, r.name, r.prefix),
    )


def _key_remove(curs: Cursor[DictRow], r: records.ApiKeyRemove, _: int) -> None:
    curs.execute("DELETE FROM trawl_api_keys WHERE key_id = %s", (r.key_id,))


def _principal_remove(curs: Cursor[DictRow], r: records.PrincipalRemove, _: int) -> None:
    curs.execute("DELETE FROM trawl_api_keys WHERE user_id = %s", (r.user_id,))
    curs.execute("DELETE FROM trawl_principals WHERE user_id = %s", (r.user_id,))


_WRITERS: dict[type, Any] = {
    records.Claim: _claim,
    records.ReleaseClaim: _release,
    records.IdempotencyRecord: _idempotency,
    records.NewPrincipal: _new_principal,
    records.PasswordSet: _password,
    records.RoleSet: _role,
    records.ApiKeyInsert: _key_insert,
    records.ApiKeyRemove: _key_remove,
    records.PrincipalRemove: _principal_remove,
}


class SideTableReads:
    """The `SideTables` port, read from Postgres (mixed into the recorder)."""

    datastore: PostgresDatastore

    def _one(self, sql: str, params: tuple[Any, ...]) -> DictRow | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql, params, prepare=True)
            return curs.fetchone()

    def claim_owner(self, scope: str, value: str) -> UUID | None:
        row = self._one(
            "SELECT owner_id FROM trawl_claims WHERE scope = %s AND value = %s", (scope, value)
        )
        return row["owner_id"] if row else None

    def principal(self, user_id: UUID) -> records.Principal | None:
        row = self._one(
            "SELECT user_id, role, password_hash, password_version"
            " FROM trawl_principals WHERE user_id = %s",
            (user_id,),
        )
        return records.Principal(**row) if row else None

    def api_key_by_hash(self, key_hash: str) -> records.ApiKeyRow | None:
        row = self._one(
            "SELECT key_id, user_id, name, prefix, created_at, last_used_at"
            " FROM trawl_api_keys WHERE key_hash = %s",
            (key_hash,),
        )
        return records.ApiKeyRow(**row) if row else None

    def api_keys(self, user_id: UUID) -> list[records.ApiKeyRow]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                "SELECT key_id, user_id, name, prefix, created_at, last_used_at"
                " FROM trawl_api_keys WHERE user_id = %s ORDER BY created_at, key_id",
                (user_id,),
            )
            return [records.ApiKeyRow(**row) for row in curs.fetchall()]

    def idempotency(
        self, principal: str, method: str, path: str, key: str
    ) -> records.IdempotencyRecord | None:
        row = self._one(
            "SELECT principal, method, path, key, request_hash, status, body, created_at"
            " FROM trawl_idempotency WHERE principal = %s AND method = %s AND path = %s"
            f" AND key = %s AND created_at >= now() - interval '{IDEMPOTENCY_TTL}'",
            (principal, method, path, key),
        )
        return records.IdempotencyRecord(**row) if row else None


def purge_expired(datastore: PostgresDatastore) -> int:
    """Delete idempotency answers older than their 24 h; the number deleted."""
    with datastore.transaction(commit=True) as curs:
        curs.execute(
            f"DELETE FROM trawl_idempotency WHERE created_at < now() - interval '{IDEMPOTENCY_TTL}'"
        )
        return curs.rowcount
