"""Checkpoints kept in Postgres, and exports written to a file or to S3."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.postgres import PostgresDatastore

from application.audit import chain
from application.audit.exports import Checkpoint, export_lines
from application.audit.ports import AuditLog

DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_audit_checkpoints ("
    " position bigint NOT NULL, link bytea NOT NULL, signed_at text NOT NULL,"
    " public_key bytea NOT NULL, signature bytea NOT NULL,"
    " PRIMARY KEY (position, signed_at))",
)


def save(datastore: PostgresDatastore, checkpoint: Checkpoint) -> None:
    with datastore.transaction(commit=True) as curs:
        for statement in DDL:
            curs.execute(statement)
        curs.execute(
            "INSERT INTO trawl_audit_checkpoints"
            " (position, link, signed_at, public_key, signature) VALUES (%s, %s, %s, %s, %s)",
            (
                checkpoint.position,
                checkpoint.link,
                checkpoint.signed_at,
                checkpoint.public_key,
                checkpoint.signature,
            ),
        )


def latest(datastore: PostgresDatastore) -> Checkpoint | None:
    """The newest checkpoint kept (its signature is NOT checked here)."""
    with datastore.transaction(commit=True) as curs:
        for statement in DDL:
            curs.execute(statement)
        curs.execute(
            "SELECT position, link, signed_at, public_key, signature"
            " FROM trawl_audit_checkpoints ORDER BY position DESC, signed_at DESC LIMIT 1"
        )
        row = curs.fetchone()
    if row is None:
        return None
    return Checkpoint(
        position=row["position"],
        link=bytes(row["link"]),
        signed_at=row["signed_at"],
        public_key=bytes(row["public_key"]),
        signature=bytes(row["signature"]),
    )


def link_before(datastore: PostgresDatastore, position: int) -> bytes:
    """The link of the last event before `position` (GENESIS when none)."""
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(
            "SELECT link FROM trawl_event_links WHERE position < %s ORDER BY position DESC LIMIT 1",
            (position,),
        )
        row = curs.fetchone()
    return bytes(row["link"]) if row else chain.GENESIS


def export(
    log: AuditLog,
    datastore: PostgresDatastore,
    first: int,
    last: int,
    out: str,
    s3_endpoint_url: str | None = None,
    s3: Any = None,
) -> int:
    """Write positions first..last as JSON Lines to a path or `s3://bucket/key`.

    `s3` is a boto3 client (default: one built for `s3_endpoint_url` with
    boto3's usual credentials). Returns the number of events written.
    """
    count = 0

    def counted(rows: Iterable[chain.ChainRow]) -> Iterable[chain.ChainRow]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    lines = export_lines(
        counted(log.chain_rows(first - 1, last)), first, last, link_before(datastore, first)
    )
    if out.startswith("s3://"):
        _to_s3(lines, out, s3_endpoint_url, s3)
    else:
        with Path(out).open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
    return count


def _to_s3(lines: Iterable[str], url: str, endpoint_url: str | None, client: Any) -> None:
    from infrastructure.aws.s3 import s3_client

    parts = urlsplit(url)
    client = client or s3_client(endpoint_url)
    buffer = io.BytesIO()
    for line in lines:
        buffer.write(line.encode())
    buffer.seek(0)
    client.upload_fileobj(buffer, parts.netloc, parts.path.lstrip("/"))
