"""A Mailer that drops each message as an .eml file into a directory.

The default when no SMTP server is configured: an operator (or a test) reads
the invitations and password-reset links from `<data dir>/mail/`.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

from application.ports import MailMessage
from infrastructure.mail import DEFAULT_SENDER, build_email


class FileMailer:
    """Writes one RFC 5322 `.eml` file per message; names sort by send time."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def send(self, message: MailMessage) -> None:
        """Write the message atomically: readers never see half a file."""
        self._directory.mkdir(parents=True, exist_ok=True)
        # The stamp keeps names in send order; the uuid keeps them unique
        # across processes sharing the directory.
        name = f"{_clock.next():020d}-{uuid.uuid4().hex}.eml"
        temporary = self._directory / f".{name}.tmp"  # hidden, not *.eml
        try:
            temporary.write_bytes(build_email(message, DEFAULT_SENDER).as_bytes())
            os.replace(temporary, self._directory / name)
        except BaseException:
            temporary.unlink(missing_ok=True)  # no debris after a full disk
            raise


class _Clock:
    """Wall-clock nanoseconds, strictly increasing within this process.

    Two sends can read the same clock value (coarse clocks) or a smaller one
    (clock steps back); either would break the order of file names.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


_clock = _Clock()
