"""A real S3 HTTP endpoint on loopback: moto's standalone server in a thread.

Clients reach it over HTTP like any S3-compatible server (nothing in botocore
is patched); the credentials are dummies passed to each client, never set in
the environment.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.server import ThreadedMotoServer

from infrastructure.aws.s3 import s3_client

HOST = "127.0.0.1"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    """Where the server listens; it lives for the whole session."""

    endpoint_url: str

    def client(self) -> Any:
        """A client built like production's (timeouts, retries) with dummy keys."""
        return s3_client(
            self.endpoint_url, REGION, access_key_id="testing", secret_access_key="testing"
        )

    def create_bucket(self) -> str:
        """A new, empty bucket with a unique name (tests share the server)."""
        name = f"trawl-test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """Run an S3 server on a free loopback port until the block ends."""
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
