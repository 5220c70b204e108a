"""A BlobStore on S3 (or an S3-compatible server) through boto3.

Blob `<kind>/sha256/..` lives at object `<prefix>/<kind>/sha256/..` in one
bucket. Writes are conditional (`If-None-Match: *`), so an object is written
once even when many workers store the same content; S3 checks the body
against the SHA-256 we send, and reads are checked against the key's hash.
Credentials come from boto3's usual chain (environment, profile, role) and
are never logged.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from application.ports import BlobNotFound, BlobRef
from infrastructure.blobs import blob_ref, is_key, key_digest, verified

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
MAX_ATTEMPTS = 5  # the first try included; "standard" mode backs off with jitter
MAX_POOL_CONNECTIONS = 32  # one client is shared by every worker thread
_CONFLICT_ATTEMPTS = 3


def s3_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> Any:
    """A thread-safe S3 client with bounded timeouts and standard retries.

    Keys left out come from boto3's credential chain. A custom endpoint (an
    S3-compatible server) is addressed path-style: its host names rarely
    resolve per bucket.
    """
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        max_pool_connections=MAX_POOL_CONNECTIONS,
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        # We send our own SHA-256; no extra checksum trailers that
        # S3-compatible servers may not understand.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


class S3BlobStore:
    """Content-addressed, write-once blobs as objects in `bucket` under `prefix`."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any | None = None,
    ) -> None:
        self._bucket = bucket
        # "a" and "ab" must not see each other's objects: end on a slash.
        stripped = prefix.strip("/")
        self._prefix = f"{stripped}/" if stripped else ""
        self._endpoint_url = endpoint_url
        self._client = client if client is not None else s3_client(endpoint_url, region)

    def put(self, data: bytes, *, kind: str) -> BlobRef:
        """Upload `data` unless its key exists; a 412 means another writer got there first."""
        ref = blob_ref(data, kind)
        checksum = base64.b64encode(bytes.fromhex(ref.sha256)).decode("ascii")
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=self._object(ref.key),
                    Body=data,
                    ChecksumSHA256=checksum,
                    IfNoneMatch="*",
                )
            except ClientError as error:
                code = _code(error)
                if code == "PreconditionFailed":
                    break  # same key, hence same bytes: already stored
                # S3 answers 409 while a concurrent conditional write is in flight.
                if code == "ConditionalRequestConflict" and attempt < _CONFLICT_ATTEMPTS:
                    continue
                raise
            break
        return ref

    def get(self, key: str) -> bytes:
        """The object's bytes; BlobNotFound when absent, BlobCorrupted when altered."""
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._object(key))
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404"):
                raise BlobNotFound(key) from None
            raise
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return verified(key, data)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=self._object(key))
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        """Delete the object; S3 answers a delete of a missing key with success too."""
        self._client.delete_object(Bucket=self._bucket, Key=self._object(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Blob keys under this store's prefix starting with `prefix` (other objects skipped)."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"][len(self._prefix) :]
                if is_key(key):
                    yield key

    def _object(self, key: str) -> str:
        key_digest(key)  # refuse anything that is not a blob key
        return self._prefix + key

    def __repr__(self) -> str:
        # Bucket and endpoint only: the client holds credentials.
        return (
            f"S3BlobStore(bucket={self._bucket!r}, prefix={self._prefix!r}, "
            f"endpoint_url={self._endpoint_url!r})"
        )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
