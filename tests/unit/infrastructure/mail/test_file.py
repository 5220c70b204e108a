from email import message_from_bytes, policy
from pathlib import Path

import pytest

from application.ports import MailMessage
from infrastructure.mail.file import FileMailer

pytestmark = pytest.mark.unit


def test_each_message_becomes_a_parseable_eml_file(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "mail")

    mailer.send(MailMessage("ada@example.org", "Your invitation", "Join: /i/abc\n"))

    [path] = (tmp_path / "mail").iterdir()
    assert path.suffix == ".eml"
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert email["From"] == "trawl@localhost"
    assert email["To"] == "ada@example.org"
    assert email["Subject"] == "Your invitation"
    assert email.get_content() == "Join: /i/abc\n"


def test_file_names_sort_in_send_order(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)

    mailer.send(MailMessage("ada@example.org", "first", "1"))
    mailer.send(MailMessage("ada@example.org", "second", "2"))

    paths = sorted(tmp_path.glob("*.eml"))
    subjects = [message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"] for p in paths]
    assert subjects == ["first", "second"]
