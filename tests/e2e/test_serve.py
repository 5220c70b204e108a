"""End to end: a real `trawl serve` process on real Postgres, driven over HTTP."""

from __future__ import annotations

import email
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.corpus import corpus_file
from tests.support.site import serving
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

TRAWL = Path(sys.executable).with_name("trawl")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(empty_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    env = {
        **os.environ,
        "TRAWL_DATABASE_URL": empty_database_url,
        "TRAWL_DATA_DIR": str(tmp_path),
        "TRAWL_PORT": str(port),
        "TRAWL_LOG_LEVEL": "WARNING",
        # The ingestion test's site is on 127.0.0.1.
        "TRAWL_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
        # Search-index upkeep every second, so a test can wait for it (test_search).
        "TRAWL_SEARCH_MAINTENANCE_SECONDS": "1",
    }
    process = subprocess.Popen(
        [str(TRAWL), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                return httpx.get(f"{base}/health/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        eventually(ready, timeout=60, what="trawl serve to become ready", pause=0.1)
        yield base, tmp_path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def test_sigterm_stops_serve_and_everything_it_started(server: tuple[str, Path]) -> None:
    """uvicorn raises SIGTERM again after its shutdown; Trawl's cleanup must
    still run, or the extraction processes (and an embedded Postgres) outlive it."""
    process = next(
        p
        for p in (int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit())
        if _is_serve(p, server[1])
    )
    children = _children(process)
    assert children, "trawl serve starts its extraction processes at once"

    os.kill(process, signal.SIGTERM)

    def gone() -> bool:
        return not any(
            Path(f"/proc/{pid}").exists() and _alive(pid) for pid in (process, *children)
        )

    eventually(gone, timeout=30, what="trawl serve and its children to exit", pause=0.2)


def _is_serve(pid: int, data_dir: Path) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"serve" in command and f"TRAWL_DATA_DIR={data_dir}".encode() in environ


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; its parent reaps it


def _verification_token(mail_dir: Path) -> str:
    files = sorted(mail_dir.glob("*.eml"))
    assert files, "no verification mail was written"
    message = email.message_from_bytes(files[-1].read_bytes())
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"^([A-Za-z0-9_-]{40,})$", body, re.MULTILINE)
    assert match, body
    return match.group(1)


def _signed_in(client: httpx.Client, mail_dir: Path, address: str) -> dict[str, str]:
    password = "correct horse battery staple"
    answer = client.post(
        "/api/v1/auth/register",
        json={"email": address, "password": password, "display_name": "E2E"},
    )
    assert answer.status_code == 201, answer.text
    verified = client.post(
        "/api/v1/auth/verify-email", json={"token": _verification_token(mail_dir)}
    )
    assert verified.status_code == 200, verified.text
    token = client.post("/api/v1/auth/token", json={"email": address, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_register_verify_token_create_and_read_your_write(server: tuple[str, Path]) -> None:
    base, data_dir = server
    with httpx.Client(base_url=base, timeout=10) as client:
        auth = _signed_in(client, data_dir / "mail", "ann@example.org")
        me = client.get("/api/v1/me", headers=auth).json()
        assert me["email"] == "ann@example.org" and me["email_verified"] is True

        created = client.post("/api/v1/projects", json={"name": "Field notes"}, headers=auth)
        assert created.status_code == 201, created.text
        position = created.headers["X-Trawl-Position"]
        project_id = created.json()["id"]

        read = client.get(
            f"/api/v1/projects/{project_id}", headers={**auth, "X-Trawl-Wait-For": position}
        )
        assert read.status_code == 200, read.text
        assert read.json()["name"] == "Field notes"
        assert read.headers["ETag"] == '"1"'


def test_another_user_gets_404_on_my_project(server: tuple[str, Path]) -> None:
    base, data_dir = server
    with httpx.Client(base_url=base, timeout=10) as client:
        owner = _signed_in(client, data_dir / "mail", "owner@example.org")
        created = client.post("/api/v1/projects", json={"name": "Private"}, headers=owner)
        project_id = created.json()["id"]
        wait = {"X-Trawl-Wait-For": created.headers["X-Trawl-Position"]}
        assert (
            client.get(f"/api/v1/projects/{project_id}", headers={**owner, **wait}).status_code
            == 200
        )

        stranger = _signed_in(client, data_dir / "mail", "stranger@example.org")
        assert (
            client.get(f"/api/v1/projects/{project_id}", headers={**stranger, **wait}).status_code
            == 404
        )
        renamed = client.patch(
            f"/api/v1/projects/{project_id}", json={"name": "Mine"}, headers=stranger
        )
        assert renamed.status_code == 404
        listed = client.get("/api/v1/projects", headers={**stranger, **wait}).json()
        assert listed["items"] == []


def test_an_added_url_is_fetched_extracted_and_chunked(server: tuple[str, Path]) -> None:
    page = corpus_file("html/httpd-docs/caching.html")
    base, data_dir = server
    with serving(page.parent) as site, httpx.Client(base_url=base, timeout=10) as client:
        auth = _signed_in(client, data_dir / "mail", "ingest@example.org")
        project = client.post("/api/v1/projects", json={"name": "Docs"}, headers=auth)
        assert project.status_code == 201, project.text
        added = client.post(
            f"/api/v1/projects/{project.json()['id']}/urls",
            json={"urls": [site + page.name]},
            headers=auth,
        )
        assert added.status_code == 202, added.text
        [item] = added.json()["items"]

        def chunked() -> bool:
            answer = client.get(f"/api/v1/urls/{item['id']}", headers=auth)
            status = answer.json()["status"] if answer.status_code == 200 else None
            assert status not in ("failed", "blocked"), answer.text
            return status in ("chunked", "vectorized")  # vectorize follows at once

        eventually(chunked, timeout=60, what="the URL to be chunked", pause=0.1)
