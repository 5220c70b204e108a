"""An S3 server on loopback for the session, a fresh bucket per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infrastructure.aws.s3 import S3BlobStore
from tests.support import s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3.S3Server]:
    with s3.s3_server() as server:
        yield server


@pytest.fixture
def s3_client(s3_server: s3.S3Server) -> Any:
    return s3_server.client()


@pytest.fixture
def bucket(s3_server: s3.S3Server) -> str:
    return s3_server.create_bucket()


@pytest.fixture
def store(bucket: str, s3_client: Any) -> S3BlobStore:
    return S3BlobStore(bucket, prefix="blobs", client=s3_client)
